package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.Problem;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * multi-auth: tries its {@code auth_plugins} in order in the rewrite phase; the first that
 * identifies the consumer lets the request on, and when none does the answer is 401 "Authorization
 * Failed" (each plugin's own refusal is logged at debug level). Each entry is compiled as that
 * plugin would be on the route, with its schema and defaults; only authentication plugins (those
 * with a consumer credential) are accepted, as APISIX's {@code type = 'auth'}.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class MultiAuthPlugin implements Plugin<MultiAuthPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(MultiAuthPlugin.class);

  static final Outcome.Respond FAILED = Outcome.message(401, "Authorization Failed");

  /** The configuration; schema {@code multi-auth.json}. */
  public record Config(List<ObjectNode> authPlugins) {}

  @Override
  public String name() {
    return "multi-auth";
  }

  @Override
  public int priority() {
    return 2600;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public Set<String> results() {
    return Set.of("consumer");
  }

  private record Auth(String name, PluginInstance instance) {}

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var registry = NestedPlugins.registry();
    var auths = new ArrayList<Auth>();
    var problems = new ArrayList<Problem>();
    for (int i = 0; i < conf.authPlugins().size(); i++) {
      var entry = conf.authPlugins().get(i);
      var at = "auth_plugins[" + i + "]";
      if (entry.size() != 1) {
        throw new IllegalArgumentException(
            at + ": " + entry.size() + " plugins (expected: one plugin, e.g. {\"key-auth\": {}})");
      }
      var name = entry.fieldNames().next();
      var plugin = registry.get(name);
      if (plugin != null && plugin.credentialField() == null) {
        throw new IllegalArgumentException(
            at
                + "."
                + name
                + ": not an authentication plugin (expected: one of "
                + registry.names().stream()
                    .filter(n -> registry.get(n).credentialField() != null)
                    .collect(Collectors.joining(", "))
                + ")");
      }
      var value = entry.get(name);
      var c =
          value == null || value.isNull()
              ? io.archway.model.ModelJson.mapper().createObjectNode()
              : value.isObject() ? (ObjectNode) value : null;
      if (c == null) {
        throw new IllegalArgumentException(at + "." + name + ": " + value + " (expected: object)");
      }
      var compiled = registry.compileOne(name, c, scope, at + "." + name, problems);
      if (compiled != null) {
        auths.add(new Auth(name, compiled.instance()));
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          problems.stream().map(Problem::toString).collect(Collectors.joining("; ")));
    }
    var list = List.copyOf(auths);
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        return attempt(ctx, list, 0);
      }
    };
  }

  /** Tries {@code auths} from {@code i} on: the first success, else 401. */
  private static Outcome attempt(PluginContext ctx, List<Auth> auths, int i) {
    for (; i < auths.size(); i++) {
      var a = auths.get(i);
      var out = a.instance().rewrite(ctx);
      if (out == Outcome.CONTINUE) {
        return out;
      }
      if (out instanceof Outcome.Later later) {
        int next = i + 1;
        return new Outcome.Later(
            later.stage(),
            v -> {
              var o = later.then().apply(v);
              if (o == Outcome.CONTINUE || o instanceof Outcome.Later) {
                return o;
              }
              log.debug("multi-auth: {} failed to authenticate the request", a.name());
              return attempt(ctx, auths, next);
            });
      }
      log.debug("multi-auth: {} failed to authenticate the request", a.name());
    }
    return FAILED;
  }
}
