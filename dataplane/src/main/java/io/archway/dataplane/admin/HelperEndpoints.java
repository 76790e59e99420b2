package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.archway.dataplane.plugin.PluginRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The Admin API's endpoints that are not stored objects, as APISIX answers them: the plugin list
 * and schemas, {@code schema/{kind}}, {@code plugins/reload}, the OpenAPI document; and the
 * reference check made before a DELETE. Bodies come from {@link Schemas}, {@link OpenApi} and
 * {@link References}; this class only puts them on paths.
 */
final class HelperEndpoints {

  private static final String BASE = "/apisix/admin";

  private HelperEndpoints() {}

  /**
   * Adds the helpers to {@code endpoints}.
   *
   * @param recompile what {@code PUT plugins/reload} runs: Archway's plugins are compiled in, so a
   *     reload compiles the current config again (plugin settings that read the environment, such
   *     as metadata, are read anew)
   */
  static void register(AdminEndpoints endpoints, PluginRegistry registry, Runnable recompile) {
    // Built on first use: it is large, and most calls never ask for it.
    var openApi = new Object[1];
    endpoints
        .add(
            "PUT",
            BASE + "/plugins/reload",
            req -> {
              recompile.run();
              return done(AdminResponse.json(200, TextNode.valueOf("done")));
            })
        .add("*", BASE + "/plugins/reload", req -> done(onlyMethod(req, "PUT")))
        .add(
            "GET",
            BASE + "/plugins/list",
            req ->
                withSubsystem(
                    req, sub -> AdminResponse.json(200, Schemas.pluginNames(registry, sub))))
        .add(
            "GET",
            BASE + "/plugins",
            req ->
                withSubsystem(
                    req,
                    sub ->
                        req.flag("all")
                            ? AdminResponse.json(200, Schemas.allPlugins(registry, sub))
                            : AdminResponse.error(
                                400,
                                "a plugin's name is missing (expected: /plugins/{name},"
                                    + " /plugins/list or /plugins?all=true)")))
        .add("GET", BASE + "/plugins/*", req -> pluginSchema(req, registry, BASE + "/plugins/"))
        .add(
            "GET",
            BASE + "/schema/plugins/*",
            req -> pluginSchema(req, registry, BASE + "/schema/plugins/"))
        .add(
            "GET",
            BASE + "/schema/*",
            req -> {
              var name = req.path().substring((BASE + "/schema/").length());
              return done(
                  Schemas.kind(name, registry)
                      .map(s -> AdminResponse.json(200, s))
                      .orElseGet(
                          () ->
                              AdminResponse.error(
                                  404,
                                  "schema not found: "
                                      + name
                                      + " (expected one of: "
                                      + String.join(", ", Schemas.kindNames())
                                      + ", plugin_metadata/{plugin}, plugins/{plugin})")));
            })
        .add(
            "GET",
            BASE + "/openapi.json",
            req -> {
              synchronized (openApi) {
                if (openApi[0] == null) {
                  openApi[0] = OpenApi.document(registry);
                }
                return done(AdminResponse.json(200, (JsonNode) openApi[0]));
              }
            })
        .add("*", BASE + "/plugins", req -> done(onlyMethod(req, "GET")))
        .add("*", BASE + "/plugins/*", req -> done(onlyMethod(req, "GET")))
        .add("*", BASE + "/schema/*", req -> done(onlyMethod(req, "GET")))
        .add("*", BASE + "/openapi.json", req -> done(onlyMethod(req, "GET")));
    endpoints.deleteCheck(HelperEndpoints::referrer);
  }

  /**
   * APISIX's delete check: what still uses {@code key}, read from the store (what has been written,
   * compiled or not), in APISIX's words.
   */
  static CompletionStage<Optional<String>> referrer(AdminStore store, String key) {
    int slash = key.indexOf('/');
    var dir = key.substring(0, slash);
    var id = key.substring(slash + 1);
    var dirs = id.contains("/") ? List.<String>of() : References.dirsToRead(dir);
    var reads = new ArrayList<CompletableFuture<List<AdminStore.Stored>>>();
    for (var d : dirs) {
      reads.add(store.list(d + "/").toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(
            none -> {
              var objects = new HashMap<String, JsonNode>();
              reads.forEach(r -> objects.putAll(References.byKey(r.join())));
              return References.referrer(dir, id, objects);
            });
  }

  private static CompletionStage<AdminResponse> pluginSchema(
      AdminRequest req, PluginRegistry registry, String under) {
    var name = req.path().substring(under.length());
    return withSubsystem(
        req,
        sub ->
            Schemas.plugin(registry, name, sub)
                .map(
                    s ->
                        "consumer".equals(req.param("schema_type"))
                            ? Schemas.consumerSchema(name)
                                .map(c -> AdminResponse.json(200, c))
                                // APISIX's answer for a plugin with no consumer_schema.
                                .orElseGet(() -> AdminResponse.error(400, "not found schema"))
                            : AdminResponse.json(200, s))
                .orElseGet(
                    () ->
                        AdminResponse.error(
                            404,
                            "plugin not found in subsystem "
                                + (sub == null ? "http" : sub)
                                + ": "
                                + name)));
  }

  private static CompletionStage<AdminResponse> withSubsystem(
      AdminRequest req, java.util.function.Function<String, AdminResponse> answer) {
    var sub = req.param("subsystem");
    var problem = Schemas.subsystemProblem(sub);
    return done(problem != null ? AdminResponse.error(400, problem) : answer.apply(sub));
  }

  /** {@code GET /apisix/admin/healthcheck}: what {@code health} gives (see AdminServer#health). */
  static void registerHealth(AdminEndpoints endpoints, Supplier<JsonNode> health) {
    endpoints
        .add("GET", BASE + "/healthcheck", req -> done(AdminResponse.json(200, health.get())))
        .add("*", BASE + "/healthcheck", req -> done(onlyMethod(req, "GET")));
  }

  private static AdminResponse onlyMethod(AdminRequest req, String method) {
    return AdminResponse.error(405, "method " + req.method() + " (expected: " + method + ")");
  }

  private static CompletionStage<AdminResponse> done(AdminResponse r) {
    return CompletableFuture.completedFuture(r);
  }
}
