package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * azure-functions (APISIX 3.x, priority -1900, access): the request is answered by an Azure
 * Function instead of the upstream ({@link ServerlessFunction}). When the client sent neither
 * {@code x-functions-key} nor {@code x-functions-clientid}, {@code authorization.apikey} and {@code
 * .clientid} are sent as those; a route without {@code authorization} falls back to {@code
 * plugin_metadata/azure-functions}' {@code master_apikey} and {@code master_clientid}, read when
 * the request is made (so a metadata change needs no recompile).
 */
@PluginTraits(category = Plugin.Category.SERVERLESS)
public final class AzureFunctionsPlugin implements Plugin<AzureFunctionsPlugin.Config> {

  /** The configuration; schema {@code azure-functions.json}. */
  public record Config(
      String functionUri,
      Authorization authorization,
      int timeout,
      boolean sslVerify,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool) {}

  /** {@code authorization}. */
  public record Authorization(String apikey, String clientid) {}

  @Override
  public String name() {
    return "azure-functions";
  }

  @Override
  public int priority() {
    return -1900;
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
  public void metadata(ObjectNode value, PluginServices services) {
    if (value == null) {
      return;
    }
    var names = value.fieldNames();
    while (names.hasNext()) {
      var n = names.next();
      if (!n.equals("master_apikey") && !n.equals("master_clientid") && !n.equals("id")) {
        throw new IllegalArgumentException(
            n + ": unknown field (expected: master_apikey, master_clientid)");
      }
      if (!value.get(n).isTextual()) {
        throw new IllegalArgumentException(n + ": " + value.get(n) + " (expected: a string)");
      }
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var uri = ServerlessFunction.httpUrl("function_uri", conf.functionUri());
    var a = conf.authorization();
    var services = scope.services();
    ServerlessFunction.Auth auth =
        call -> {
          if (call.has("x-functions-key") || call.has("x-functions-clientid")) {
            return; // the client's own keys win, as in APISIX
          }
          if (a != null) {
            call.set("x-functions-key", a.apikey());
            call.set("x-functions-clientid", a.clientid());
            return;
          }
          var meta = services.metadata("azure-functions");
          if (meta != null) {
            var key = meta.path("master_apikey").asText("");
            var client = meta.path("master_clientid").asText("");
            if (!key.isEmpty()) {
              call.set("x-functions-key", key);
            }
            if (!client.isEmpty()) {
              call.set("x-functions-clientid", client);
            }
          }
        };
    return new ServerlessFunction(
        uri,
        ServerlessFunction.Mode.FORWARD,
        auth,
        conf.timeout(),
        conf.sslVerify(),
        services,
        null);
  }
}
