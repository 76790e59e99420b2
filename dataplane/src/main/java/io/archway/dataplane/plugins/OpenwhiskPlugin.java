package io.archway.dataplane.plugins;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.support.SigV4;
import java.util.EnumSet;
import java.util.Set;

/**
 * openwhisk (APISIX 3.x, priority -1901, access): the request is answered by an Apache OpenWhisk
 * action instead of the upstream ({@link ServerlessFunction}): {@code POST
 * <api_host>/api/v1/namespaces/<namespace>/actions/[<package>/]<action>?blocking=true&result=...&timeout=...}
 * with the client's body, {@code service_token} as HTTP basic authorization; the action's JSON
 * result ({@code statusCode}, {@code headers}, {@code body}) makes the response.
 */
@PluginTraits(category = Plugin.Category.SERVERLESS)
public final class OpenwhiskPlugin implements Plugin<OpenwhiskPlugin.Config> {

  /** The configuration; schema {@code openwhisk.json}. */
  public record Config(
      String apiHost,
      boolean sslVerify,
      String serviceToken,
      String namespace,
      @JsonProperty("package") String pkg,
      String action,
      boolean result,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool) {}

  @Override
  public String name() {
    return "openwhisk";
  }

  @Override
  public int priority() {
    return -1901;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var host = conf.apiHost();
    while (host.endsWith("/")) {
      host = host.substring(0, host.length() - 1);
    }
    var path =
        new StringBuilder("/api/v1/namespaces/")
            .append(SigV4.encode(conf.namespace()))
            .append("/actions/");
    if (conf.pkg() != null && !conf.pkg().isEmpty()) {
      path.append(SigV4.encode(conf.pkg())).append('/');
    }
    path.append(SigV4.encode(conf.action()));
    var uri = ServerlessFunction.httpUrl("api_host", host + path);
    var auth = ServerlessFunction.basic(conf.serviceToken());
    return new ServerlessFunction(
        uri,
        ServerlessFunction.Mode.OPENWHISK,
        call -> call.set("authorization", auth),
        conf.timeout(),
        conf.sslVerify(),
        scope.services(),
        "blocking=true&result=" + conf.result() + "&timeout=" + conf.timeout());
  }
}
