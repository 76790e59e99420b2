package io.archway.dataplane.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The seam where endpoints other than the stored resources plug in: plugin lists and schemas,
 * {@code schema/{kind}}, the OpenAPI document, {@code configs}. The handler asks these first, in
 * the order they were added; a path none of them takes is a resource ({@link ResourceApi}).
 *
 * <p>An endpoint is called on the admin thread, never on an event loop, with an authenticated
 * request; the role check for writes is done before (a viewer never reaches a write).
 */
final class AdminEndpoints {

  /** One endpoint. */
  @FunctionalInterface
  interface Endpoint {
    CompletionStage<AdminResponse> handle(AdminRequest request);
  }

  /**
   * Asked before an object is deleted (unless {@code ?force=true}): why {@code key} may not go,
   * naming the referrer that still uses it, in APISIX's words ({@code can not delete this upstream,
   * route [1] is still using it now}), or empty when none does. Completes off the event loop.
   */
  @FunctionalInterface
  interface DeleteCheck {
    CompletionStage<Optional<String>> referrer(AdminStore store, String key);
  }

  private record Entry(String method, String path, boolean prefix, Endpoint endpoint) {
    boolean matches(String p) {
      if (prefix) {
        return p.startsWith(path);
      }
      int star = path.indexOf("/*/");
      if (star < 0) {
        return p.equals(path);
      }
      // One segment in the middle: /plugin_flows/*/dry-run.
      var head = path.substring(0, star + 1);
      var tail = path.substring(star + 2);
      if (!p.startsWith(head) || !p.endsWith(tail) || p.length() <= head.length() + tail.length()) {
        return false;
      }
      return p.indexOf('/', head.length()) == p.length() - tail.length();
    }
  }

  private final List<Entry> entries = new ArrayList<>();
  private DeleteCheck deleteCheck =
      (store, key) -> java.util.concurrent.CompletableFuture.completedFuture(Optional.empty());

  /**
   * Adds {@code endpoint} for {@code method} ({@code *}: any) on {@code path}; a path ending with
   * {@code /*} takes everything under it ({@code /apisix/admin/schema/*}); a star segment inside it
   * stands for one segment (the id in {@code /apisix/admin/plugin_flows/{id}/stats}).
   */
  AdminEndpoints add(String method, String path, Endpoint endpoint) {
    boolean prefix = path.endsWith("/*");
    entries.add(
        new Entry(method, prefix ? path.substring(0, path.length() - 1) : path, prefix, endpoint));
    return this;
  }

  /** Replaces the check made before deletes (the default finds no referrer). */
  AdminEndpoints deleteCheck(DeleteCheck check) {
    this.deleteCheck = check;
    return this;
  }

  DeleteCheck deleteCheck() {
    return deleteCheck;
  }

  Optional<Endpoint> find(String method, String path) {
    for (var e : entries) {
      boolean methodOk = e.method.equals("*") || e.method.equals(method);
      boolean pathOk = e.matches(path);
      if (methodOk && pathOk) {
        return Optional.of(e.endpoint);
      }
    }
    return Optional.empty();
  }
}
