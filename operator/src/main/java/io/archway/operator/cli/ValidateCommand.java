package io.archway.operator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code archway-operator validate}: every error with file, object and field; exit 1 on any. */
@Command(
    name = "validate",
    header = "check resource files; every error with file, object and field; exit 1 on any",
    customSynopsis = "archway-operator validate -f FILE|DIR [-f ...] [options]",
    description = {
      "",
      "Checks every ApisixRoute, ApisixUpstream, ApisixConsumer, ApisixTls,"
          + " ApisixPluginConfig, ApisixGlobalRule, ApisixClusterConfig, the APISIX Ingress"
          + " Controller 2.x v1alpha1 kinds (PluginConfig, Consumer, GatewayProxy,"
          + " BackendTrafficPolicy, HTTPRoutePolicy, L4RoutePolicy), StreamRoute, PluginFlow"
          + " and Ingress in the files as the operator would; prints each error as"
          + " FILE:DOC: Kind namespace/name: field: message. A resource of a gateway API group"
          + " (apisix.apache.org, archway.io, gateway.networking.k8s.io) that Archway does not"
          + " read is an error naming its kind and apiVersion; other kinds are listed as skipped.",
      "Exit status 0 when all are valid, 1 when any is not, 2 on a usage error.",
      ""
    },
    mixinStandardHelpOptions = true,
    versionProvider = OperatorCommand.Version.class,
    sortOptions = false)
final class ValidateCommand implements Callable<Integer> {

  @ParentCommand OperatorCommand parent;

  @Mixin ResourceFiles files;

  @Option(
      names = "--control-plane-discovery",
      paramLabel = "off|marked|all",
      description = "check as the operator with that setting would")
  String controlPlaneDiscovery = "off";

  @Override
  public Integer call() throws UsageException {
    var out = parent.out;
    var m = files.read(controlPlaneDiscovery);
    int bad = 0;
    for (var u : m.unreadable()) {
      out.println(u.source() + ": " + u.message());
      bad++;
    }
    for (var u : m.skipped()) {
      out.println(u.source() + ": " + u.message());
    }
    int checked = 0;
    for (var e : ResourceFiles.translateAll(m).entrySet()) {
      checked++;
      var d = e.getKey();
      var t = e.getValue();
      for (var w : t.warnings()) {
        out.println(d.source() + ": " + d.describe() + ": warning: " + w);
      }
      if (!t.ok()) {
        bad++;
        for (var fe : t.errors()) {
          out.println(d.source() + ": " + d.describe() + ": " + fe);
        }
      }
    }
    out.println(checked + " resource(s) checked, " + bad + " with errors");
    return bad == 0 ? 0 : 1;
  }
}
