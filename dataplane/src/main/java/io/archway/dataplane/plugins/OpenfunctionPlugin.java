package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import java.util.EnumSet;
import java.util.Set;

/**
 * openfunction (APISIX 3.x, priority -1902, access): the request is answered by an OpenFunction
 * function instead of the upstream ({@link ServerlessFunction}); {@code
 * authorization.service_token} ({@code user:password}) goes as HTTP basic authorization, replacing
 * the client's, as APISIX does.
 */
@PluginTraits(category = Plugin.Category.SERVERLESS)
public final class OpenfunctionPlugin implements Plugin<OpenfunctionPlugin.Config> {

  /** The configuration; schema {@code openfunction.json}. */
  public record Config(
      String functionUri,
      Authorization authorization,
      boolean sslVerify,
      int timeout,
      boolean keepalive,
      int keepaliveTimeout,
      int keepalivePool) {}

  /** {@code authorization}. */
  public record Authorization(String serviceToken) {}

  @Override
  public String name() {
    return "openfunction";
  }

  @Override
  public int priority() {
    return -1902;
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
    var uri = ServerlessFunction.httpUrl("function_uri", conf.functionUri());
    var token = conf.authorization() == null ? null : conf.authorization().serviceToken();
    ServerlessFunction.Auth auth =
        token == null
            ? call -> {}
            : call -> call.set("authorization", ServerlessFunction.basic(token));
    return new ServerlessFunction(
        uri,
        ServerlessFunction.Mode.FORWARD,
        auth,
        conf.timeout(),
        conf.sslVerify(),
        scope.services(),
        null);
  }
}
