package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.archway.dataplane.config.ConfigCompiler;
import io.archway.dataplane.flow.CompiledFlow;
import io.archway.dataplane.flow.FlowStats;
import io.archway.dataplane.flow.FlowTrace;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Messages;
import io.archway.model.ModelJson;
import io.archway.model.PluginFlow;
import io.archway.model.Problem;
import io.archway.model.ValidationException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The calls the PluginFlow Studio makes beyond APISIX's resources: a plugin flow's dry-run (saved,
 * or unsaved in the body) and its live counts, and APISIX's {@code schema/validate/{resource}} (the
 * same validator a write uses, so the same message). See the dataplane README's Admin API section
 * for the shapes.
 */
final class StudioEndpoints {

  private static final String BASE = "/apisix/admin";
  private static final String FLOWS = BASE + "/plugin_flows/";

  /** How long a dry-run may take before it is answered 504 (a plugin's I/O never answering). */
  static final long DRY_RUN_TIMEOUT_SECONDS = 10;

  private StudioEndpoints() {}

  /**
   * {@code POST /schema/validate/{resource}}: added before the other helpers, whose {@code
   * /schema/*} would answer it 405.
   */
  static void registerValidate(
      AdminEndpoints endpoints, AdminStore store, AdminValidation validation) {
    endpoints.add(
        "POST",
        BASE + "/schema/validate/*",
        req ->
            done(
                validate(
                    store,
                    validation,
                    req.path().substring((BASE + "/schema/validate/").length()),
                    req.body())));
  }

  /**
   * The dry-run and stats calls, over the flows {@code compiler} runs; a dry-run's request within
   * {@code limits}, at most {@code limits.concurrent()} at once.
   */
  static void registerFlows(
      AdminEndpoints endpoints,
      AdminStore store,
      AdminValidation validation,
      ConfigCompiler compiler,
      FlowTrace.Limits limits) {
    var running = new java.util.concurrent.Semaphore(limits.concurrent());
    endpoints
        .add(
            "POST",
            FLOWS + "dry-run",
            req ->
                limited(
                    running, limits, () -> dryRun(req, null, store, validation, compiler, limits)))
        .add(
            "POST",
            FLOWS + "*/dry-run",
            req ->
                limited(
                    running,
                    limits,
                    () -> dryRun(req, idOf(req.path()), store, validation, compiler, limits)))
        .add("GET", FLOWS + "*/stats", req -> stats(req, store, compiler));
  }

  /** Runs {@code call} if fewer than the limit run now (429 otherwise), counted until it ends. */
  private static CompletionStage<AdminResponse> limited(
      java.util.concurrent.Semaphore running,
      FlowTrace.Limits limits,
      java.util.function.Supplier<CompletionStage<AdminResponse>> call) {
    if (!running.tryAcquire()) {
      return done(
          AdminResponse.error(
              429,
              "dry-run: "
                  + limits.concurrent()
                  + " already running (expected: at most "
                  + limits.concurrent()
                  + " at once; retry when one ends)"));
    }
    try {
      return call.get().whenComplete((r, e) -> running.release());
    } catch (RuntimeException e) {
      running.release();
      throw e;
    }
  }

  private static String idOf(String path) {
    var rest = path.substring(FLOWS.length());
    return rest.substring(0, rest.indexOf('/'));
  }

  /**
   * APISIX's answers: 200 with an empty body when valid, 400 {@code {"error_msg"}} with what a
   * write of the same body would be refused for, 404 {@code Unsupported resource type: x}.
   */
  static AdminResponse validate(
      AdminStore store, AdminValidation validation, String resource, byte[] body) {
    if (resource.isEmpty() || resource.contains("/") || AdminPaths.parse(resource).isEmpty()) {
      return AdminResponse.error(404, "Unsupported resource type: " + resource);
    }
    ObjectNode value;
    try {
      value = AdminJson.object(body);
    } catch (AdminJson.BadBody e) {
      return AdminResponse.error(400, e.getMessage());
    }
    var refused = refusal(store, validation, resource, value);
    return refused == null
        ? AdminResponse.json(200, TextNode.valueOf(""))
        : AdminResponse.error(refused.status, refused.getMessage());
  }

  /**
   * Why a write of {@code value} into directory {@code resource} would be refused ({@link
   * ResourceApi#refusal}, what a write checks), or {@code null}. The id is the body's, taken whole
   * as a PUT to the collection takes it, else a placeholder: what the store would do with the
   * path's id is not the body's fault.
   */
  private static ResourceApi.BadRequest refusal(
      AdminStore store, AdminValidation validation, String resource, ObjectNode value) {
    var probe = AdminPaths.parse(resource + "/validate").orElse(null);
    if (probe == null) {
      return new ResourceApi.BadRequest(404, "Unsupported resource type: " + resource);
    }
    var id = value.path(probe.idField());
    var target =
        id.isValueNode() && !id.isNull() && probe.kind() != Kind.PLUGIN_METADATA
            ? new AdminPaths.Target(probe.type(), probe.kind(), probe.dir(), id.asText(), List.of())
            : probe;
    if (target.kind() != Kind.PLUGIN_METADATA) {
      value.put(target.idField(), target.id());
    }
    return ResourceApi.refusal(store, validation, target, value);
  }

  // Dry-run.

  private static final Set<String> TOP = Set.of("request", "upstream_response", "flow");
  private static final Set<String> REQUEST =
      Set.of("method", "uri", "host", "headers", "body", "remote_addr");
  private static final Set<String> UPSTREAM = Set.of("status", "headers", "body");

  /** A field of the dry-run's body at fault, named. */
  static final class BadField extends Exception {
    BadField(String message) {
      super(message, null, false, false);
    }
  }

  private static CompletionStage<AdminResponse> dryRun(
      AdminRequest req,
      String savedId,
      AdminStore store,
      AdminValidation validation,
      ConfigCompiler compiler,
      FlowTrace.Limits limits) {
    PluginFlow flow;
    String owner;
    FlowTrace.Request request;
    FlowTrace.Upstream upstream;
    try {
      var body = AdminJson.object(req.body());
      known(body, savedId == null ? TOP : Set.of("request", "upstream_response"), "");
      request = request(body.get("request"), limits);
      upstream = upstream(body.get("upstream_response"));
      if (savedId == null) {
        var f = body.get("flow");
        if (!(f instanceof ObjectNode fo)) {
          throw new BadField("flow: missing (expected: a plugin_flows object, {rule, conf})");
        }
        var id = fo.path("id").isValueNode() ? fo.get("id").asText() : "dry-run";
        owner = Keys.item(Kind.PLUGIN_FLOWS, id);
        var refused = refusal(store, validation, "plugin_flows", fo.deepCopy());
        if (refused != null) {
          throw new BadField("flow: " + refused.getMessage());
        }
        flow = read(fo, id);
      } else {
        owner = Keys.item(Kind.PLUGIN_FLOWS, savedId);
        var stored = store.get(owner).toCompletableFuture().join();
        if (stored.isEmpty()) {
          return done(AdminResponse.error(404, "plugin flow " + savedId + " not found"));
        }
        flow = read(stored.get().value(), savedId);
      }
    } catch (AdminJson.BadBody e) {
      return done(AdminResponse.error(400, e.getMessage()));
    } catch (BadField e) {
      return done(AdminResponse.error(400, e.getMessage()));
    }
    var problems = new ArrayList<Problem>();
    var compiled =
        CompiledFlow.compile(
            flow, owner, compiler.registry(), compiler.pluginServices(), problems, true);
    if (compiled == null) {
      return done(AdminResponse.error(400, "flow: " + Messages.join(problems)));
    }
    var config = compiler.current();
    CompletionStage<ObjectNode> trace;
    try {
      trace =
          FlowTrace.run(compiled, config.consumers(), config.upstreams()::get, request, upstream);
    } catch (IllegalArgumentException e) {
      return done(AdminResponse.error(400, e.getMessage()));
    }
    return trace
        .toCompletableFuture()
        .orTimeout(DRY_RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .handle(
            (json, err) -> {
              if (err == null) {
                return AdminResponse.json(200, json);
              }
              var cause = err instanceof CompletionException c ? c.getCause() : err;
              if (cause instanceof TimeoutException) {
                return AdminResponse.error(
                    504,
                    "dry-run: no answer within "
                        + DRY_RUN_TIMEOUT_SECONDS
                        + " s (a plugin waited)");
              }
              if (cause instanceof IllegalArgumentException bad) {
                return AdminResponse.error(400, bad.getMessage());
              }
              return AdminResponse.error(500, "dry-run failed: " + cause);
            });
  }

  private static PluginFlow read(ObjectNode value, String id) throws BadField {
    try {
      return (PluginFlow)
          ModelJson.read(Kind.PLUGIN_FLOWS, value, id, Keys.item(Kind.PLUGIN_FLOWS, id));
    } catch (ValidationException e) {
      throw new BadField("flow: " + Messages.join(e.problems()));
    }
  }

  private static void known(JsonNode obj, Set<String> fields, String at) throws BadField {
    var it = obj.fieldNames();
    while (it.hasNext()) {
      var f = it.next();
      if (!fields.contains(f)) {
        throw new BadField(
            at
                + f
                + ": unknown field (expected one of: "
                + String.join(", ", sorted(fields))
                + ")");
      }
    }
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  static FlowTrace.Request request(JsonNode r) throws BadField {
    return request(r, FlowTrace.Limits.DEFAULTS);
  }

  /** The request of a dry-run, within the HTTP listener's {@code limits}. */
  static FlowTrace.Request request(JsonNode r, FlowTrace.Limits limits) throws BadField {
    if (r == null || !r.isObject()) {
      throw new BadField("request: missing (expected: an object with at least uri)");
    }
    known(r, REQUEST, "request.");
    var uri = text(r, "uri", "request.", null);
    if (uri == null) {
      throw new BadField("request.uri: missing (expected: a path such as /get?a=1)");
    }
    if (!uri.startsWith("/")) {
      throw new BadField("request.uri: \"" + uri + "\" (expected: starts with \"/\")");
    }
    var method = text(r, "method", "request.", "GET");
    if (!method.matches("[A-Z]{1,20}")) {
      throw new BadField("request.method: \"" + method + "\" (expected: an HTTP method, GET)");
    }
    var host = text(r, "host", "request.", null);
    var remote = text(r, "remote_addr", "request.", "127.0.0.1");
    var body = text(r, "body", "request.", "").getBytes(StandardCharsets.UTF_8);
    if (limits.maxBodySize() > 0 && body.length > limits.maxBodySize()) {
      throw new BadField(
          "request.body: "
              + body.length
              + " bytes (expected: at most "
              + limits.maxBodySize()
              + ", the HTTP listener's client_max_body_size)");
    }
    var headers = headers(r.get("headers"), "request.headers");
    int fields = 0;
    long bytes = uri.length() + method.length() + 12L; // the request line
    for (var e : headers.entrySet()) {
      for (var v : e.getValue()) {
        fields++;
        bytes += e.getKey().length() + v.length() + 4L; // "name: value" CRLF
      }
    }
    if (fields > limits.maxHeaders()) {
      throw new BadField(
          "request.headers: "
              + fields
              + " fields (expected: at most "
              + limits.maxHeaders()
              + ", the HTTP listener's limit)");
    }
    if (bytes > limits.maxHeaderSize()) {
      throw new BadField(
          "request.headers: "
              + bytes
              + " bytes with the request line (expected: at most "
              + limits.maxHeaderSize()
              + ", the HTTP listener's max header size)");
    }
    return new FlowTrace.Request(method, uri, host, headers, body, remote);
  }

  static FlowTrace.Upstream upstream(JsonNode u) throws BadField {
    if (u == null || u.isNull()) {
      return new FlowTrace.Upstream(200, Map.of(), new byte[0]);
    }
    if (!u.isObject()) {
      throw new BadField("upstream_response: " + u + " (expected: an object)");
    }
    known(u, UPSTREAM, "upstream_response.");
    int status = 200;
    var s = u.get("status");
    if (s != null) {
      if (!s.isInt() || s.intValue() < 100 || s.intValue() > 599) {
        throw new BadField("upstream_response.status: " + s + " (expected: 100..599)");
      }
      status = s.intValue();
    }
    var body = text(u, "body", "upstream_response.", "");
    return new FlowTrace.Upstream(
        status,
        headers(u.get("headers"), "upstream_response.headers"),
        body.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(JsonNode obj, String field, String at, String dflt) throws BadField {
    var v = obj.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isTextual()) {
      throw new BadField(at + field + ": " + v + " (expected: a string)");
    }
    return v.asText();
  }

  private static Map<String, List<String>> headers(JsonNode h, String at) throws BadField {
    if (h == null || h.isNull()) {
      return Map.of();
    }
    if (!h.isObject()) {
      throw new BadField(at + ": " + h + " (expected: an object of header names to values)");
    }
    var out = new LinkedHashMap<String, List<String>>();
    var it = h.fields();
    while (it.hasNext()) {
      var e = it.next();
      var v = e.getValue();
      var values = new ArrayList<String>();
      if (v.isTextual() || v.isNumber() || v.isBoolean()) {
        values.add(v.asText());
      } else if (v.isArray()) {
        for (var x : v) {
          if (!x.isValueNode() || x.isNull()) {
            throw new BadField(at + "." + e.getKey() + ": " + v + " (expected: strings)");
          }
          values.add(x.asText());
        }
      } else {
        throw new BadField(at + "." + e.getKey() + ": " + v + " (expected: a string)");
      }
      out.put(e.getKey(), values);
    }
    return out;
  }

  // Stats.

  private static CompletionStage<AdminResponse> stats(
      AdminRequest req, AdminStore store, ConfigCompiler compiler) {
    var id = idOf(req.path());
    int window = 60;
    var w = req.param("window");
    if (w != null) {
      try {
        window = Integer.parseInt(w);
      } catch (NumberFormatException e) {
        window = -1;
      }
      if (window < 10 || window > FlowStats.MAX_WINDOW) {
        return done(
            AdminResponse.error(
                400, "window: " + w + " (expected: seconds, 10.." + FlowStats.MAX_WINDOW + ")"));
      }
    }
    var owner = Keys.item(Kind.PLUGIN_FLOWS, id);
    if (store.get(owner).toCompletableFuture().join().isEmpty()) {
      return done(AdminResponse.error(404, "plugin flow " + id + " not found"));
    }
    int seconds = window;
    var out =
        FlowStats.of(compiler.pluginServices())
            .window(owner, seconds)
            .orElseGet(
                () -> {
                  // Stored but not run here (yet, or it does not compile): nothing counted.
                  var empty = ModelJson.mapper().createObjectNode().put("window", seconds);
                  empty.putObject("nodes");
                  empty.putArray("edges");
                  return empty;
                });
    return done(AdminResponse.json(200, out));
  }

  private static CompletionStage<AdminResponse> done(AdminResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}
