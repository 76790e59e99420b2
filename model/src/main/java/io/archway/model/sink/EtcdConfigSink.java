package io.archway.model.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.ConfigObject;
import io.archway.model.Keys;
import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The operator's writer: every write is validated as the dataplane will validate it, carries its
 * owner's labels, and goes through an etcd transaction on the key's mod revision, so it never
 * overwrites a change it has not seen and never touches a key it did not create. Writes that would
 * change nothing are not made.
 *
 * <p>Blocking calls with a timeout: the operator calls them from its reconciler threads.
 */
public final class EtcdConfigSink implements AutoCloseable {

  /** What a put did. */
  public enum Result {
    CREATED,
    UPDATED,
    UNCHANGED
  }

  private static final int MAX_ATTEMPTS = 5;

  private final Client client;
  private final Keys keys;
  private final Duration timeout;

  public EtcdConfigSink(Client client, String prefix, Duration timeout) {
    this.client = client;
    this.keys = Keys.of(prefix);
    this.timeout = timeout;
  }

  public static EtcdConfigSink connect(List<String> endpoints, String prefix) {
    return connect(endpoints, prefix, null, null, null);
  }

  /**
   * @param user etcd user, or {@code null} when etcd has no authentication
   * @param tls TLS to etcd, or {@code null}
   */
  public static EtcdConfigSink connect(
      List<String> endpoints,
      String prefix,
      String user,
      String password,
      io.archway.model.source.EtcdTls tls) {
    var builder =
        Client.builder()
            .endpoints(endpoints.toArray(String[]::new))
            .maxInboundMessageSize(64 * 1024 * 1024);
    io.archway.model.source.EtcdTls.access(builder, user, password, tls);
    return new EtcdConfigSink(builder.build(), prefix, Duration.ofSeconds(10));
  }

  public Keys keys() {
    return keys;
  }

  /**
   * Writes {@code obj} with {@code owner}'s labels unless etcd already holds the same value.
   *
   * @throws ValidationException when the object (with its labels) is not valid: nothing is written
   * @throws NotOwnedException when the key exists and is not this owner's: nothing is written
   */
  public Result putIfChanged(Kind kind, ConfigObject obj, Owner owner) throws Exception {
    var key = new Key(kind, obj.id());
    // Compared as etcd gives it back: the model's numbers (a Long timeout, a Double weight) read
    // back as the narrowest JSON number, and a tree built from the objects would never equal it:
    // every reconcile would write again a value that did not change.
    var value =
        ModelJson.mapper()
            .readTree(ModelJson.mapper().writeValueAsBytes(labelled(kind, obj, owner)));
    for (int attempt = 1; ; attempt++) {
      var current = get(kind, obj.id());
      Cmp guard;
      if (current.isEmpty()) {
        guard = new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.createRevision(0));
      } else {
        var item = current.get();
        checkOwned(item, owner);
        if (item.value().equals(value)) {
          return Result.UNCHANGED;
        }
        guard = new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(item.modRevision()));
      }
      var put = Op.put(bytes(key), toBytes(value), PutOption.DEFAULT);
      if (await(client.getKVClient().txn().If(guard).Then(put).commit()).isSucceeded()) {
        return current.isEmpty() ? Result.CREATED : Result.UPDATED;
      }
      if (attempt == MAX_ATTEMPTS) {
        throw new IllegalStateException(
            key + ": changed by someone else " + MAX_ATTEMPTS + " times while writing; giving up");
      }
    }
  }

  /**
   * Writes {@code obj} as it is (no labels added) if the key's mod revision is still {@code
   * expectedModRevision}; {@code 0} means the key must not exist. For writers that read, decide and
   * write, such as control-plane discovery updating an upstream's nodes.
   *
   * @return whether the write happened
   */
  public boolean compareAndSwap(Kind kind, ConfigObject obj, long expectedModRevision)
      throws Exception {
    return compareAndSwap(kind, obj.id(), ModelJson.toTree(obj), expectedModRevision);
  }

  /**
   * Writes {@code value} as it is (JSON another writer made, edited in place: the fields the model
   * does not hold stay as written) under the same guard as {@link #compareAndSwap(Kind,
   * ConfigObject, long)}.
   *
   * @throws ValidationException when the value is not a valid object of {@code kind}: nothing is
   *     written
   */
  public boolean compareAndSwap(Kind kind, String id, JsonNode value, long expectedModRevision)
      throws Exception {
    ModelJson.read(kind, value, id, kind.dir() + "/" + id);
    var key = bytes(new Key(kind, id));
    var guard =
        expectedModRevision == 0
            ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
            : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(expectedModRevision));
    var put = Op.put(key, toBytes(value), PutOption.DEFAULT);
    return await(client.getKVClient().txn().If(guard).Then(put).commit()).isSucceeded();
  }

  /**
   * Deletes the item if it is {@code owner}'s, guarded by its mod revision.
   *
   * @return whether something was deleted ({@code false} when the key was already gone)
   * @throws NotOwnedException when the key is someone else's: it stays
   */
  public boolean delete(Kind kind, String id, Owner owner) throws Exception {
    return delete(kind, id, owner, false);
  }

  /**
   * Deletes the item if this very incarnation of {@code owner} wrote it (its uid too), guarded by
   * its mod revision: for a resource that is gone, whose name may already be another resource's.
   *
   * @return whether something was deleted ({@code false} when the key is gone, or is now another
   *     resource's, or someone else's)
   */
  public boolean deleteIncarnation(Kind kind, String id, Owner owner) throws Exception {
    return delete(kind, id, owner, true);
  }

  private boolean delete(Kind kind, String id, Owner owner, boolean incarnation) throws Exception {
    for (int attempt = 1; ; attempt++) {
      var current = get(kind, id);
      if (current.isEmpty()) {
        return false;
      }
      if (incarnation) {
        if (!owner.equals(current.get().owner())) {
          return false;
        }
      } else {
        checkOwned(current.get(), owner);
      }
      var key = bytes(new Key(kind, id));
      var guard = new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(current.get().modRevision()));
      var del = Op.delete(key, DeleteOption.DEFAULT);
      if (await(client.getKVClient().txn().If(guard).Then(del).commit()).isSucceeded()) {
        return true;
      }
      if (attempt == MAX_ATTEMPTS) {
        throw new IllegalStateException(
            kind.dir() + "/" + id + ": changed by someone else while deleting; giving up");
      }
    }
  }

  public Optional<StoredItem> get(Kind kind, String id) throws Exception {
    var res = await(client.getKVClient().get(bytes(new Key(kind, id))));
    return res.getKvs().isEmpty()
        ? Optional.empty()
        : Optional.of(stored(new Key(kind, id), res.getKvs().get(0)));
  }

  /** Every item {@code owner} wrote. */
  public List<StoredItem> listByOwner(Owner owner) throws Exception {
    return listManaged().stream().filter(i -> sameOwner(i.owner(), owner)).toList();
  }

  /** Every item carrying {@code managed-by: archway}, whoever its owner. */
  public List<StoredItem> listManaged() throws Exception {
    var root = ByteSequence.from(keys.root(), StandardCharsets.UTF_8);
    var res =
        await(
            client
                .getKVClient()
                .get(root, GetOption.builder().withRange(OptionsUtil.prefixEndOf(root)).build()));
    var out = new ArrayList<StoredItem>();
    for (var kv : res.getKvs()) {
      var key = keys.parse(kv.getKey().toString(StandardCharsets.UTF_8));
      if (key.isPresent()) {
        var item = stored(key.get(), kv);
        if (item.owner() != null) {
          out.add(item);
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    client.close();
  }

  private static boolean sameOwner(Owner a, Owner b) {
    return a != null
        && a.kind().equals(b.kind())
        && a.namespace().equals(b.namespace())
        && a.name().equals(b.name());
  }

  private void checkOwned(StoredItem item, Owner owner) throws NotOwnedException {
    if (item.owner() == null) {
      throw new NotOwnedException(
          item.key() + " exists and is not managed by archway; not touching it");
    }
    if (!sameOwner(item.owner(), owner)) {
      throw new NotOwnedException(item.key() + " belongs to " + item.owner() + ", not " + owner);
    }
  }

  /** The object's JSON with the owner's labels merged over its own, validated. */
  private ObjectNode labelled(Kind kind, ConfigObject obj, Owner owner) throws ValidationException {
    if (kind.type() != obj.getClass()) {
      throw new IllegalArgumentException(kind + " cannot hold a " + obj.getClass().getSimpleName());
    }
    var json = (ObjectNode) ModelJson.toTree(obj);
    var labels = new java.util.TreeMap<String, String>();
    if (obj.labels() != null) {
      labels.putAll(obj.labels());
    }
    labels.putAll(owner.labels());
    json.set("labels", ModelJson.mapper().valueToTree(labels));
    var where = kind.dir() + "/" + obj.id();
    ModelJson.read(kind, json, obj.id(), where);
    return json;
  }

  private StoredItem stored(Key key, KeyValue kv) {
    JsonNode value;
    try {
      value = ModelJson.mapper().readTree(kv.getValue().getBytes());
    } catch (IOException e) {
      value = null;
    }
    Owner owner = null;
    if (value != null && value.path("labels").isObject()) {
      var labels = new HashMap<String, String>();
      value.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
      owner = Owner.of(Map.copyOf(labels));
    }
    return new StoredItem(key, value, owner, kv.getModRevision());
  }

  private ByteSequence bytes(Key key) {
    return ByteSequence.from(keys.keyBytes(key.kind(), key.id()));
  }

  private static ByteSequence toBytes(JsonNode value) throws IOException {
    return ByteSequence.from(ModelJson.mapper().writeValueAsBytes(value));
  }

  private <T> T await(CompletableFuture<T> f) throws Exception {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new TimeoutException("no answer from etcd in " + timeout.toMillis() + " ms");
    }
  }
}
