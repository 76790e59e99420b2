package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code /apisix/admin/configs} in standalone mode (APISIX 3.x's API-driven standalone, as ADC
 * drives it): {@code GET} answers the whole config in the standalone shape with its {@code
 * X-Digest} and {@code X-Last-Modified}; {@code PUT} replaces the whole config, JSON or YAML,
 * checked object by object and applied in one change. A {@code PUT} whose {@code X-Digest} is the
 * one in force changes nothing (ADC sends the same config again when nothing changed). A viewer's
 * {@code GET} shows secrets masked ({@link Redaction}); a {@code PUT} of it keeps each masked
 * field's stored value (same key, same field), and refuses a mask with nothing stored to keep.
 */
final class ConfigsEndpoint implements AdminEndpoints.Endpoint {

  static final String PATH = "/apisix/admin/configs";

  private final StandaloneAdminStore store;
  private final AdminValidation validation;

  ConfigsEndpoint(StandaloneAdminStore store, AdminValidation validation) {
    this.store = store;
    this.validation = validation;
  }

  @Override
  public CompletionStage<AdminResponse> handle(AdminRequest req) {
    return switch (req.method()) {
      case "GET", "HEAD" ->
          store.all().thenApply(all -> headers(AdminResponse.json(200, document(all, req))));
      case "PUT" -> put(req);
      default ->
          CompletableFuture.completedFuture(
              AdminResponse.error(405, req.method() + " on configs (expected: GET or PUT)"));
    };
  }

  private ObjectNode document(Map<String, ObjectNode> all, AdminRequest req) {
    if (req.role() == AdminRequest.Role.ADMIN) {
      return StandaloneDoc.document(all);
    }
    var masked = new LinkedHashMap<String, ObjectNode>();
    all.forEach(
        (k, v) ->
            masked.put(k, AdminPaths.parse(k).map(t -> Redaction.masked(t.type(), v)).orElse(v)));
    return StandaloneDoc.document(masked);
  }

  private CompletionStage<AdminResponse> put(AdminRequest req) {
    var digest = req.headers().get("X-Digest");
    if (digest != null && digest.equals(store.digest())) {
      return CompletableFuture.completedFuture(
          headers(AdminResponse.json(202, io.archway.model.ModelJson.mapper().createObjectNode())));
    }
    JsonNode root;
    try {
      var type = req.headers().get("Content-Type", "");
      if (type.contains("yaml")) {
        root = StandaloneDoc.YAML.readTree(req.body());
      } else {
        root = AdminJson.object(req.body());
      }
    } catch (AdminJson.BadBody e) {
      return CompletableFuture.completedFuture(AdminResponse.error(400, e.getMessage()));
    } catch (IOException e) {
      return CompletableFuture.completedFuture(
          AdminResponse.error(400, "invalid YAML in request body: " + e.getMessage()));
    }
    var problems = new ArrayList<String>();
    // On the admin thread, which serves every write: nothing changes the stored config between
    // this read and the replace (but a hand edit of the file, which replaces it whole anyway).
    var stored = store.all().toCompletableFuture().join();
    var values = StandaloneDoc.items(root, "configs", problems, Redaction.keeping(stored::get));
    values.forEach(
        (key, value) -> {
          var target = AdminPaths.parse(key).orElseThrow();
          var problem = validation.check(target, value);
          if (problem != null) {
            problems.add("configs: " + key + ": " + problem);
          }
        });
    if (!problems.isEmpty()) {
      return CompletableFuture.completedFuture(
          AdminResponse.error(400, String.join("; ", problems)));
    }
    return store
        .replaceAll(values, digest)
        .thenApply(
            rev ->
                headers(
                    AdminResponse.json(
                        202, io.archway.model.ModelJson.mapper().createObjectNode())));
  }

  private AdminResponse headers(AdminResponse r) {
    var out = r.withHeader("X-Last-Modified", Long.toString(store.lastModified()));
    var d = store.digest();
    return d == null ? out : out.withHeader("X-Digest", d);
  }
}
