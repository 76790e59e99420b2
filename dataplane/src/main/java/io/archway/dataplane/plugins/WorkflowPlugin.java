package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginRegistry;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.model.PluginSchemas;
import io.archway.model.Vars;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * workflow (APISIX 3.x): the first rule whose {@code case} holds (a rule without one always does)
 * runs its actions in order: {@code ["return", {"code": N}]} answers {@code N} with {@code
 * {"error_msg":"rejected by workflow"}}, {@code ["limit-count", {...}]} and {@code ["limit-conn",
 * {...}]} limit the request exactly as those plugins would, compiled by their own classes from the
 * action's configuration (checked against their schemas, with their defaults). Later rules are not
 * tried once one matched, as in APISIX.
 */
@PluginTraits(category = Plugin.Category.TRAFFIC)
public final class WorkflowPlugin implements Plugin<WorkflowPlugin.Config> {

  static final String REJECTED = "rejected by workflow";

  /** The configuration; schema {@code workflow.json}. Rules are read by {@link #compile}. */
  public record Config(List<ObjectNode> rules) {}

  private static final LimitCountPlugin LIMIT_COUNT = new LimitCountPlugin();
  private static final LimitConnPlugin LIMIT_CONN = new LimitConnPlugin();

  @Override
  public String name() {
    return "workflow";
  }

  @Override
  public int priority() {
    return 1006;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.LOG);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var rules = new ArrayList<Rule>();
    var logged = new ArrayList<PluginInstance>();
    for (int i = 0; i < conf.rules().size(); i++) {
      var rule = conf.rules().get(i);
      var at = "rules[" + i + "]";
      VarsMatcher when = null;
      var c = rule.get("case");
      if (c instanceof ArrayNode expr) {
        try {
          when = VarsMatcher.compile(Vars.parse(expr));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              at + ".case: failed to validate the 'case' expression: " + e.getMessage());
        }
      }
      var actions = new ArrayList<PluginInstance>();
      var list = rule.path("actions");
      for (int j = 0; j < list.size(); j++) {
        var action = action(list.get(j), at + ".actions[" + j + "]", scope, i);
        actions.add(action.instance);
        if (action.logs) {
          logged.add(action.instance);
        }
      }
      rules.add(new Rule(when, List.copyOf(actions)));
    }
    return new Compiled(List.copyOf(rules), List.copyOf(logged));
  }

  private record Action(PluginInstance instance, boolean logs) {}

  private static Action action(JsonNode action, String at, PluginScope scope, int rule) {
    var name = action.path(0);
    if (!name.isTextual()) {
      throw new IllegalArgumentException(
          at + "[0]: " + name + " (expected: an action name: return, limit-count or limit-conn)");
    }
    var conf = action.get(1);
    if (!(conf instanceof ObjectNode object)) {
      throw new IllegalArgumentException(
          at
              + "[1]: "
              + (conf == null ? "missing" : conf.toString())
              + " (expected: the '"
              + name.asText()
              + "' action's configuration, an object)");
    }
    return switch (name.asText()) {
      case "return" -> {
        var code = object.get("code");
        if (code == null || !code.canConvertToInt() || !code.isIntegralNumber()) {
          throw new IllegalArgumentException(
              at
                  + "[1].code: "
                  + (code == null ? "missing" : code.toString())
                  + " (failed to validate the 'return' action; expected: integer >= 100)");
        }
        if (code.intValue() < 100 || code.intValue() > 599) {
          throw new IllegalArgumentException(
              at
                  + "[1].code: "
                  + code
                  + " (failed to validate the 'return' action; expected: integer 100..599)");
        }
        if (object.size() > 1) {
          var extra = new ArrayList<String>();
          object.fieldNames().forEachRemaining(extra::add);
          extra.remove("code");
          throw new IllegalArgumentException(
              at + "[1]: unknown field(s) " + extra + " (the 'return' action takes only code)");
        }
        var h = new DefaultHttpHeaders().set("content-type", "application/json");
        var answer = Outcome.respond(code.intValue(), h, Outcome.errorBody(REJECTED));
        yield new Action(new Return(answer), false);
      }
      // Each action counts on its own (APISIX isolates them by the rule's index too).
      case "limit-count" -> new Action(delegate(LIMIT_COUNT, object, at, scope, rule), false);
      case "limit-conn" -> new Action(delegate(LIMIT_CONN, object, at, scope, rule), true);
      default ->
          throw new IllegalArgumentException(
              at
                  + "[0]: \""
                  + name.asText()
                  + "\" (unsupported action; expected: one of return, limit-count, limit-conn)");
    };
  }

  private static <C extends Record> PluginInstance delegate(
      Plugin<C> plugin, ObjectNode conf, String at, PluginScope scope, int rule) {
    var problems = PluginSchemas.check(plugin.name(), conf, at + "[1]");
    if (!problems.isEmpty()) {
      var first = problems.get(0);
      throw new IllegalArgumentException(
          first.path()
              + ": failed to validate the '"
              + plugin.name()
              + "' action: "
              + first.message());
    }
    try {
      return plugin.compile(
          PluginRegistry.bind(plugin, conf),
          new PluginScope(scope.owner() + "#workflow.rules[" + rule + "]", scope.services()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          at + "[1]: failed to validate the '" + plugin.name() + "' action: " + e.getMessage());
    }
  }

  private record Rule(VarsMatcher when, List<PluginInstance> actions) {}

  private record Return(Outcome.Respond answer) implements PluginInstance {
    @Override
    public Outcome access(PluginContext ctx) {
      return answer;
    }
  }

  private record Compiled(List<Rule> rules, List<PluginInstance> logged) implements PluginInstance {

    @Override
    public Outcome access(PluginContext ctx) {
      for (var rule : rules) {
        if (rule.when == null || rule.when.matches(ctx)) {
          return run(ctx, rule.actions, 0);
        }
      }
      return Outcome.CONTINUE;
    }

    /** Runs the actions from {@code i}: the first answer ends it, a later one resumes after it. */
    private static Outcome run(PluginContext ctx, List<PluginInstance> actions, int i) {
      for (; i < actions.size(); i++) {
        var o = actions.get(i).access(ctx);
        if (o instanceof Outcome.Later later) {
          int next = i + 1;
          return new Outcome.Later(
              later.stage(),
              v -> {
                var decided = later.then().apply(v);
                return decided instanceof Outcome.Continue ? run(ctx, actions, next) : decided;
              });
        }
        if (!(o instanceof Outcome.Continue)) {
          return o;
        }
      }
      return Outcome.CONTINUE;
    }

    @Override
    public void log(PluginContext ctx) {
      // limit-conn gives its slot back; an action that took none does nothing.
      for (var l : logged) {
        l.log(ctx);
      }
    }
  }
}
