package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Keys;
import io.archway.model.Kind;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stored resources, {@code /apisix/admin/<dir>[/<id>[/<sub-path>]]}, in APISIX 3.x's request
 * and response shapes. Runs on the admin thread; the store's calls are awaited there, never on an
 * event loop. A write's answer then waits, off that thread, until this node serves the write
 * ({@link ConfigApplied}), within {@code applyTimeout}.
 */
final class ResourceApi {

  /** On an answer sent before this node served its write (the wait ran out). */
  static final String APPLIED_HEADER = "X-Archway-Applied";

  private static final Logger log = LoggerFactory.getLogger(ResourceApi.class);
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final AdminStore store;
  private final AdminValidation validation;
  private final AdminEndpoints.DeleteCheck deleteCheck;
  private final String prefix;
  private final Keys keys;
  private final ConfigApplied applied;
  private final Duration applyTimeout;
  private final AtomicLong lastId = new AtomicLong();

  /**
   * @param prefix the etcd prefix responses name keys with ({@code /apisix})
   * @param applied when this node serves a revision ({@link ConfigApplied#ON_ANSWER} for a store
   *     that applies before it answers)
   * @param applyTimeout how long an answer waits for that
   */
  ResourceApi(
      AdminStore store,
      AdminValidation validation,
      AdminEndpoints.DeleteCheck deleteCheck,
      String prefix,
      ConfigApplied applied,
      Duration applyTimeout) {
    this.store = store;
    this.validation = validation;
    this.deleteCheck = deleteCheck;
    this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    // The keys as the dataplane's watch reads them (the same prefix, the same rules).
    this.keys = Keys.of(prefix);
    this.applied = applied;
    this.applyTimeout = applyTimeout;
  }

  /**
   * An answer, and the revision this node must serve before it goes out ({@code 0}: none, a read or
   * a refusal, or an object the dataplane does not act on).
   */
  private record Answer(AdminResponse response, long revision) {
    static Answer now(AdminResponse response) {
      return new Answer(response, 0);
    }
  }

  /**
   * Serves {@code req} on the admin thread; a write's answer completes once this node serves it
   * (read-your-writes), or after {@code applyTimeout} with {@value #APPLIED_HEADER}{@code : false}.
   */
  CompletionStage<AdminResponse> serve(AdminRequest req) {
    var answer = answer(req);
    if (answer.revision() <= 0) {
      return CompletableFuture.completedFuture(answer.response());
    }
    var reached = applied.reached(answer.revision());
    if (reached.isDone()) {
      return CompletableFuture.completedFuture(answer.response());
    }
    long started = System.nanoTime();
    // completeOnTimeout runs on the JDK's delay thread: no loop and no admin thread waits.
    return reached
        .thenApply(v -> true)
        .completeOnTimeout(false, applyTimeout.toNanos(), TimeUnit.NANOSECONDS)
        .thenApply(
            done -> {
              if (done) {
                return answer.response();
              }
              log.warn(
                  "{} {}: answered before this node applied revision {} (waited {} ms)",
                  req.method(),
                  req.path(),
                  answer.revision(),
                  (System.nanoTime() - started) / 1_000_000);
              return answer.response().withHeader(APPLIED_HEADER, "false");
            });
  }

  private Answer answer(AdminRequest req) {
    var rest = req.path().substring(Math.min(req.path().length(), AdminHandler.BASE.length()));
    var target = AdminPaths.parse(rest);
    if (target.isEmpty()) {
      return Answer.now(
          AdminResponse.error(
              404,
              "unknown resource /apisix/admin/"
                  + rest
                  + " (expected one of: "
                  + AdminPaths.known()
                  + ")"));
    }
    var t = target.get();
    if (!t.sub().isEmpty() && !req.method().equals("PATCH")) {
      return Answer.now(
          AdminResponse.error(
              405,
              req.method() + " on a part of an object (expected: PATCH, or the whole object)"));
    }
    try {
      return switch (req.method()) {
        case "GET", "HEAD" -> Answer.now(t.collection() ? list(t, req) : get(t));
        case "PUT" -> put(t, req);
        case "POST" -> post(t, req);
        case "PATCH" -> patch(t, req);
        case "DELETE" -> delete(t, req);
        default ->
            Answer.now(
                AdminResponse.error(
                    405,
                    "method " + req.method() + " (expected: GET, PUT, POST, PATCH or DELETE)"));
      };
    } catch (AdminJson.BadBody e) {
      return Answer.now(AdminResponse.error(400, e.getMessage()));
    } catch (BadRequest e) {
      return Answer.now(AdminResponse.error(e.status, e.getMessage()));
    } catch (java.util.concurrent.CompletionException e) {
      // The etcd store fails its stages with these (the standalone store throws them plainly).
      if (e.getCause() instanceof AdminStore.Conflict c) {
        return Answer.now(AdminResponse.error(409, c.getMessage()));
      }
      if (e.getCause() instanceof IllegalArgumentException bad) {
        return Answer.now(AdminResponse.error(400, "invalid configuration: " + bad.getMessage()));
      }
      throw e;
    } catch (AdminStore.Conflict c) {
      return Answer.now(AdminResponse.error(409, c.getMessage()));
    }
  }

  /**
   * A write's answer waits for the revision it was stored at when the dataplane's watch takes its
   * key ({@link Keys#parse}, the watch's own rule): objects of no model kind (e.g. {@code protos},
   * {@code secrets}) are stored but never reach the compiled config, so nothing would come.
   */
  private Answer written(AdminPaths.Target t, AdminResponse response, long revision) {
    boolean watched = keys.parse(keys.root() + t.key()).isPresent();
    return new Answer(response, watched ? revision : 0);
  }

  private AdminResponse get(AdminPaths.Target t) {
    var found = store.get(t.key()).toCompletableFuture().join();
    return found
        .map(s -> AdminResponse.json(200, item(t, s)))
        .orElseGet(
            () -> AdminResponse.json(404, JSON.objectNode().put("message", "Key not found")));
  }

  private AdminResponse list(AdminPaths.Target t, AdminRequest req) throws BadRequest {
    var all = store.list(t.dir()).toCompletableFuture().join();
    var filter = ListFilter.of(req);
    var items =
        all.stream()
            .filter(s -> s.key().substring(t.dir().length()).split("/", -1).length == t.idParts())
            .filter(s -> filter.matches(s.value()))
            .toList();
    var page = filter.page(items);
    var body = JSON.objectNode();
    body.put("total", items.size());
    var list = body.putArray("list");
    page.forEach(s -> list.add(item(t, s)));
    return AdminResponse.json(200, body);
  }

  private Answer put(AdminPaths.Target t, AdminRequest req) throws AdminJson.BadBody, BadRequest {
    var value = AdminJson.object(req.body());
    var target = t;
    if (t.collection()) {
      // APISIX also takes PUT /routes with the id in the body.
      var id = value.get(t.idField());
      if (id == null || !id.isValueNode()) {
        throw new BadRequest(
            400, "missing " + t.idField() + " (expected: in the path or the body)");
      }
      target = new AdminPaths.Target(t.type(), t.kind(), t.dir(), id.asText(), List.of());
    }
    var before = store.get(target.key()).toCompletableFuture().join();
    var stored = write(target, value, before, expected(req, AdminStore.ANY));
    return written(
        target,
        AdminResponse.json(before.isPresent() ? 200 : 201, item(target, stored)),
        stored.modifiedIndex());
  }

  private Answer post(AdminPaths.Target t, AdminRequest req) throws AdminJson.BadBody, BadRequest {
    if (!t.collection() || t.kind() == Kind.PLUGIN_METADATA || t.kind() == Kind.CONSUMERS) {
      throw new BadRequest(
          405, "POST makes an id: post to a collection of ids (expected: PUT here)");
    }
    var value = AdminJson.object(req.body());
    var target = new AdminPaths.Target(t.type(), t.kind(), t.dir(), newId(), List.of());
    var stored = write(target, value, Optional.empty(), AdminStore.ABSENT);
    return written(target, AdminResponse.json(201, item(target, stored)), stored.modifiedIndex());
  }

  private Answer patch(AdminPaths.Target t, AdminRequest req) throws AdminJson.BadBody, BadRequest {
    if (t.collection()) {
      throw new BadRequest(405, "PATCH needs an object's id");
    }
    var before = store.get(t.key()).toCompletableFuture().join();
    if (before.isEmpty()) {
      return Answer.now(AdminResponse.json(404, JSON.objectNode().put("message", "Key not found")));
    }
    var value = before.get().value().deepCopy();
    if (t.sub().isEmpty()) {
      JsonMerge.merge(value, AdminJson.object(req.body()));
    } else {
      JsonNode part;
      try {
        part = io.archway.model.ModelJson.mapper().readTree(req.body());
      } catch (java.io.IOException e) {
        throw new BadRequest(400, "invalid JSON in request body: " + e.getMessage());
      }
      if (part == null || part.isMissingNode()) {
        throw new BadRequest(
            400, "empty body (expected: the new value of " + String.join("/", t.sub()) + ")");
      }
      JsonMerge.replace(value, t.sub(), part);
    }
    // The object read is the one changed: a write in between is a conflict, not a lost update.
    long expected = expected(req, before.get().modifiedIndex());
    var stored = write(t, value, before, expected);
    return written(t, AdminResponse.json(200, item(t, stored)), stored.modifiedIndex());
  }

  private Answer delete(AdminPaths.Target t, AdminRequest req) throws BadRequest {
    if (t.collection()) {
      throw new BadRequest(405, "DELETE needs an object's id");
    }
    if (!req.flag("force")) {
      var referrer = deleteCheck.referrer(store, t.key()).toCompletableFuture().join();
      if (referrer.isPresent()) {
        throw new BadRequest(
            400, referrer.get() + " (expected: delete that first, or ?force=true)");
      }
    }
    long revision =
        store.deleteAt(t.key(), expected(req, AdminStore.ANY)).toCompletableFuture().join();
    boolean deleted = revision > 0;
    if (deleted && t.kind() == Kind.CONSUMERS) {
      // A consumer's credentials go with it, as in APISIX; the answer waits for the last of them
      // (deletes of keys the watch skips move nothing: their revisions are not waited for).
      for (var c : store.list(t.key() + "/credentials/").toCompletableFuture().join()) {
        long r = store.deleteAt(c.key(), AdminStore.ANY).toCompletableFuture().join();
        if (keys.parse(keys.root() + c.key()).isPresent()) {
          revision = Math.max(revision, r);
        }
      }
    }
    if (!deleted) {
      return Answer.now(AdminResponse.json(404, JSON.objectNode().put("message", "Key not found")));
    }
    return written(
        t,
        AdminResponse.json(200, JSON.objectNode().put("deleted", "1").put("key", prefix + t.key())),
        revision);
  }

  /** Fills id and times, checks, writes; the stored object. */
  private AdminStore.Stored write(
      AdminPaths.Target t, ObjectNode value, Optional<AdminStore.Stored> before, long expected)
      throws BadRequest {
    var idNode = value.get(t.idField());
    if (idNode != null && !idNode.isNull() && !idNode.asText().equals(t.id())) {
      throw new BadRequest(
          400,
          "invalid configuration: "
              + t.idField()
              + ": "
              + idNode
              + " (expected: \""
              + t.id()
              + "\", the id in the path)");
    }
    if (t.kind() != Kind.PLUGIN_METADATA) {
      value.put(t.idField(), t.id());
    }
    var masks =
        Redaction.restore(t.type(), value, before.map(AdminStore.Stored::value).orElse(null));
    if (!masks.isEmpty()) {
      throw new BadRequest(400, "invalid configuration: " + Redaction.refusal(masks));
    }
    if (t.kind() != Kind.PLUGIN_METADATA) {
      long now = System.currentTimeMillis() / 1000;
      var created = before.map(s -> s.value().get("create_time")).orElse(null);
      if (created != null && created.canConvertToLong()) {
        value.put("create_time", created.longValue());
      } else if (!value.path("create_time").canConvertToLong()) {
        value.put("create_time", now);
      }
      value.put("update_time", now);
    }
    // The operator's object is its custom resource's to change (the store checks again,
    // atomically).
    var owner = before.map(s -> OwnerLabels.owner(s.value())).orElse(null);
    if (owner != null) {
      throw new BadRequest(409, OwnerLabels.ownedMessage(t.key(), owner));
    }
    var refused = refusal(store, validation, t, value);
    if (refused != null) {
      throw refused;
    }
    return store.put(t.key(), value, expected).toCompletableFuture().join();
  }

  /**
   * Why a write of {@code value} (its id and times set) to {@code t} is refused, or {@code null}:
   * an id of more path segments than the collection's, a credential without its consumer, a
   * consumer group that does not exist, owner labels, the schema and references, a key another
   * consumer has. What {@code schema/validate} answers too.
   */
  static BadRequest refusal(
      AdminStore store, AdminValidation validation, AdminPaths.Target t, ObjectNode value) {
    if (t.id() != null && t.id().split("/", -1).length != t.idParts()) {
      return new BadRequest(
          400,
          "invalid configuration: "
              + t.idField()
              + ": \""
              + t.id()
              + "\" (expected: "
              + (t.idParts() == 1 ? "one path segment, no \"/\")" : "<manager>/<id>)"));
    }
    if (t.type().equals(AdminPaths.CREDENTIALS)) {
      var consumer = t.dir().substring(0, t.dir().length() - "/credentials/".length());
      if (store.get(consumer).toCompletableFuture().join().isEmpty()) {
        return new BadRequest(
            404, consumer + " does not exist (expected: the consumer before its credentials)");
      }
    }
    var group = t.kind() == Kind.CONSUMERS ? value.path("group_id") : null;
    if (group != null && group.isValueNode() && !group.isNull()) {
      if (store.get("consumer_groups/" + group.asText()).toCompletableFuture().join().isEmpty()) {
        return new BadRequest(400, References.missingGroup(group.asText()));
      }
    }
    var owned = OwnerLabels.problem(value);
    if (owned != null) {
      return new BadRequest(400, "invalid configuration: " + owned);
    }
    var problem = validation.check(t, value);
    if (problem == null
        && (t.kind() == Kind.CONSUMERS || t.type().equals(AdminPaths.CREDENTIALS))) {
      var all = store.list("consumers/").toCompletableFuture().join();
      problem = validation.duplicate(t.key(), value, all);
    }
    return problem == null ? null : new BadRequest(400, problem);
  }

  /** {@code If-Match: <modifiedIndex>} or {@code If-None-Match: *}; otherwise {@code dflt}. */
  private static long expected(AdminRequest req, long dflt) throws BadRequest {
    var match = req.headers().get("If-Match");
    if (match != null) {
      var v = match.strip().replace("\"", "");
      try {
        long rev = Long.parseLong(v);
        if (rev > 0) {
          return rev;
        }
      } catch (NumberFormatException e) {
        // fall through
      }
      throw new BadRequest(400, "If-Match: \"" + match + "\" (expected: a modifiedIndex, > 0)");
    }
    var none = req.headers().get("If-None-Match");
    if (none != null && none.strip().equals("*")) {
      return AdminStore.ABSENT;
    }
    return dflt;
  }

  /** APISIX's 20-digit ids, increasing: creation time in microseconds, never repeated. */
  private String newId() {
    long now = System.currentTimeMillis() * 1000;
    long id = lastId.updateAndGet(last -> Math.max(last + 1, now));
    return String.format("%020d", id);
  }

  private ObjectNode item(AdminPaths.Target t, AdminStore.Stored s) {
    var o = JSON.objectNode();
    o.put("key", prefix + s.key());
    o.set("value", Redaction.masked(t.type(), s.value()));
    o.put("createdIndex", s.createdIndex());
    o.put("modifiedIndex", s.modifiedIndex());
    return o;
  }

  /** A refusal with its status. */
  static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }
}
