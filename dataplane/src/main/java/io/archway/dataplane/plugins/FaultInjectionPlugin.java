package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.VarsMatcher;
import io.archway.model.Vars;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * fault-injection: delays a share of requests ({@code delay.duration} seconds, on a timer, the
 * event loop never waits) and answers a share itself ({@code abort}: status, body with variables,
 * headers). Each applies to {@code percentage} of requests, and only where one of its {@code vars}
 * expressions holds when it has any.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.SIMULATES)
public final class FaultInjectionPlugin implements Plugin<FaultInjectionPlugin.Config> {

  /** The configuration; schema {@code fault-injection.json}. */
  public record Config(Abort abort, Delay delay) {}

  /** Answer instead of proxying. */
  public record Abort(
      int httpStatus, String body, ObjectNode headers, int percentage, List<ArrayNode> vars) {}

  /** Wait before going on. */
  public record Delay(double duration, int percentage, List<ArrayNode> vars) {}

  @Override
  public String name() {
    return "fault-injection";
  }

  @Override
  public int priority() {
    return 11000;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  private record When(int percentage, List<VarsMatcher> vars) {

    static When of(int percentage, List<ArrayNode> vars, String at) {
      var out = new ArrayList<VarsMatcher>();
      if (vars != null) {
        for (int i = 0; i < vars.size(); i++) {
          try {
            out.add(VarsMatcher.compile(Vars.parse(vars.get(i))));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(at + ".vars[" + i + "]: " + e.getMessage());
          }
        }
      }
      return new When(percentage, List.copyOf(out));
    }

    boolean hit(PluginContext ctx) {
      if (percentage < 100 && ThreadLocalRandom.current().nextInt(100) >= percentage) {
        return false;
      }
      if (vars.isEmpty()) {
        return true;
      }
      for (var v : vars) {
        if (v.matches(ctx)) {
          return true;
        }
      }
      return false;
    }
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var abort = conf.abort();
    var delay = conf.delay();
    When abortWhen = abort == null ? null : When.of(abort.percentage(), abort.vars(), "abort");
    When delayWhen = delay == null ? null : When.of(delay.percentage(), delay.vars(), "delay");
    long delayNanos = delay == null ? 0 : (long) (delay.duration() * 1e9);
    int status = abort == null ? 0 : abort.httpStatus();
    var body = abort == null ? Template.of("") : Template.of(abort.body());
    HttpHeaders headers = new DefaultHttpHeaders();
    if (abort != null && abort.headers() != null) {
      HeaderOps.parse(abort.headers(), "abort.headers"); // checks names and values
      abort.headers().properties().forEach(e -> headers.set(e.getKey(), e.getValue().asText()));
    }
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        if (delayWhen != null && delayWhen.hit(ctx)) {
          return ctx.after(delayNanos, () -> afterDelay(ctx));
        }
        return afterDelay(ctx);
      }

      private Outcome afterDelay(PluginContext ctx) {
        if (abortWhen != null && abortWhen.hit(ctx)) {
          return Outcome.respond(
              status,
              headers.isEmpty() ? null : headers,
              body.render(ctx).getBytes(StandardCharsets.UTF_8));
        }
        return Outcome.CONTINUE;
      }
    };
  }
}
