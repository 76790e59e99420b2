package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginServices;
import io.archway.dataplane.plugin.PluginTraits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import org.casbin.jcasbin.main.Enforcer;
import org.casbin.jcasbin.model.Model;
import org.casbin.jcasbin.persist.file_adapter.FileAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * authz-casbin: jCasbin's {@code enforce(user, path, method)}, the user from the request header
 * {@code username} ({@code anonymous} without one), the path without its query; 403 {@code Access
 * Denied} when the policy does not allow it. The model and policy are read when the configuration
 * compiles (files or text), or come from {@code plugin_metadata/authz-casbin}, whose enforcer is
 * built again when the metadata changes (APISIX's {@code modifiedIndex} check); without any of them
 * the request gets 503, as APISIX when it has no enforcer.
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION, dryRun = Plugin.DryRun.RUNS)
public final class AuthzCasbinPlugin implements Plugin<AuthzCasbinPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(AuthzCasbinPlugin.class);
  private static final Outcome.Respond DENIED = Outcome.message(403, "Access Denied");

  static {
    // jCasbin logs every model, policy and decision at INFO by default: the policies on every
    // compile and a line per request. Archway logs its own refusals instead.
    org.casbin.jcasbin.util.Util.enableLog = false;
  }

  /** The configuration; schema {@code authz-casbin.json}. */
  public record Config(
      String modelPath, String policyPath, String model, String policy, String username) {}

  @Override
  public String name() {
    return "authz-casbin";
  }

  @Override
  public int priority() {
    return 2560;
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
  public void metadata(ObjectNode value, PluginServices services) {
    if (value == null) {
      return;
    }
    if (!value.path("model").isTextual() || !value.path("policy").isTextual()) {
      throw new IllegalArgumentException("model and policy: missing (expected: both, as text)");
    }
    enforcer(value.get("model").asText(), value.get("policy").asText(), "plugin_metadata");
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    boolean files = conf.modelPath() != null || conf.policyPath() != null;
    boolean text = conf.model() != null || conf.policy() != null;
    if (files && text) {
      throw new IllegalArgumentException(
          "model_path: set with model (expected: model_path and policy_path, or model and policy)");
    }
    Enforcer fixed = null;
    if (files) {
      if (conf.modelPath() == null || conf.policyPath() == null) {
        throw new IllegalArgumentException(
            (conf.modelPath() == null ? "model_path" : "policy_path")
                + ": missing (expected: model_path and policy_path together)");
      }
      fixed =
          enforcer(
              read(conf.modelPath(), "model_path"),
              read(conf.policyPath(), "policy_path"),
              "model_path");
    } else if (text) {
      if (conf.model() == null || conf.policy() == null) {
        throw new IllegalArgumentException(
            (conf.model() == null ? "model" : "policy")
                + ": missing (expected: model and policy together)");
      }
      fixed = enforcer(conf.model(), conf.policy(), "model");
    }
    var services = scope.services();
    var byMetadata = services.shared("authz-casbin/metadata", Metadata::new);
    var user = conf.username();
    var own = fixed;
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        var e = own != null ? own : byMetadata.enforcer(services.metadata("authz-casbin"));
        if (e == null) {
          LOG.warn(
              "authz-casbin on {}: no model and policy (route or plugin_metadata)", ctx.routeId());
          return Outcome.status(503);
        }
        var name = ctx.request().headers().get(user);
        if (name == null) {
          name = "anonymous";
        }
        boolean allowed;
        // jCasbin's enforcer is not documented as safe for concurrent use; it is quick.
        synchronized (e) {
          allowed = e.enforce(name, ctx.vars().get("uri"), ctx.request().method().name());
        }
        return allowed ? Outcome.CONTINUE : DENIED;
      }
    };
  }

  private static String read(String path, String field) {
    try {
      return Files.readString(Path.of(path), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(field + ": cannot read " + path + ": " + e.getMessage());
    }
  }

  static Enforcer enforcer(String model, String policy, String field) {
    try {
      var m = new Model();
      m.loadModelFromText(model);
      var e =
          new Enforcer(
              m,
              new FileAdapter(new ByteArrayInputStream(policy.getBytes(StandardCharsets.UTF_8))));
      return e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          field + ": not a Casbin model and policy: " + e.getMessage());
    }
  }

  /** The enforcer of the current {@code plugin_metadata}, built again when it changes. */
  static final class Metadata {
    private ObjectNode source;
    private Enforcer enforcer;

    synchronized Enforcer enforcer(ObjectNode meta) {
      if (meta == null) {
        return null;
      }
      if (meta != source) {
        source = meta;
        try {
          enforcer =
              AuthzCasbinPlugin.enforcer(
                  meta.path("model").asText(), meta.path("policy").asText(), "plugin_metadata");
        } catch (IllegalArgumentException e) {
          LOG.warn("authz-casbin: {}", e.getMessage());
          enforcer = null;
        }
      }
      return enforcer;
    }
  }
}
