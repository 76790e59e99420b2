package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.archway.model.Keys;
import io.archway.model.ModelJson;
import io.archway.model.source.EtcdTls;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Admin API's objects in etcd, under the prefix the dataplane watches: every write is one etcd
 * transaction guarded by the key's mod revision, so two writers never lose each other's changes,
 * and a key the operator owns (its owner labels, {@link OwnerLabels}) is never written.
 *
 * <p>Nothing here blocks: jetcd answers with futures completed on its gRPC threads, and the chain
 * of read, check and transaction stays on them. A guard of {@link #ANY} still checks ownership on
 * the revision it read, so the transaction compares against that revision and retries a few times
 * when someone else wrote in between; a caller's own revision is compared once and a mismatch is
 * the caller's {@link AdminStore.Conflict} (409).
 */
final class EtcdAdminStore implements AdminStore {

  /** How often an unguarded ({@link #ANY}) write retries after losing a race on ownership. */
  private static final int ATTEMPTS = 5;

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final Client client;
  private final boolean ownsClient;
  private final String root;
  private final AtomicLong revision = new AtomicLong();

  /**
   * @param prefix the key prefix the dataplane reads ({@code /apisix})
   * @param ownsClient whether {@link #close} closes {@code client}
   */
  EtcdAdminStore(Client client, String prefix, boolean ownsClient) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.root = Keys.of(prefix).root();
  }

  /** A store with its own client, reaching etcd as the dataplane's config source does. */
  static EtcdAdminStore connect(
      List<String> endpoints, String prefix, String user, String password, EtcdTls tls) {
    var builder =
        Client.builder()
            .endpoints(endpoints.toArray(String[]::new))
            .connectTimeout(Duration.ofSeconds(5))
            .waitForReady(false)
            .retryMaxDuration(Duration.ofSeconds(5))
            .maxInboundMessageSize(64 * 1024 * 1024);
    EtcdTls.access(builder, user, password, tls);
    return new EtcdAdminStore(builder.build(), prefix, true);
  }

  @Override
  public CompletionStage<Optional<Stored>> get(String key) {
    return timed(client.getKVClient().get(bytes(key)))
        .thenApply(
            res -> {
              seen(res.getHeader().getRevision());
              return res.getKvs().isEmpty()
                  ? Optional.<Stored>empty()
                  : Optional.ofNullable(stored(key, res.getKvs().get(0)));
            });
  }

  @Override
  public CompletionStage<List<Stored>> list(String dir) {
    var from = bytes(dir);
    var option =
        GetOption.builder()
            .withRange(OptionsUtil.prefixEndOf(from))
            .withSortField(GetOption.SortTarget.KEY)
            .withSortOrder(GetOption.SortOrder.ASCEND)
            .build();
    return timed(client.getKVClient().get(from, option))
        .thenApply(
            res -> {
              seen(res.getHeader().getRevision());
              var out = new ArrayList<Stored>(res.getKvs().size());
              for (var kv : res.getKvs()) {
                var s =
                    stored(
                        kv.getKey().toString(StandardCharsets.UTF_8).substring(root.length()), kv);
                if (s != null) {
                  out.add(s);
                }
              }
              return List.copyOf(out);
            });
  }

  @Override
  public CompletionStage<Stored> put(String key, ObjectNode value, long expected) {
    var problem = OwnerLabels.problem(value);
    if (problem != null) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(problem));
    }
    final ByteSequence json;
    try {
      json = ByteSequence.from(ModelJson.mapper().writeValueAsBytes(value));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new UncheckedIOException(e));
    }
    var put = Op.put(bytes(key), json, PutOption.builder().withPrevKV().build());
    if (expected == ABSENT) {
      // Nothing there: nobody's to check, one comparison decides.
      return txn(new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.version(0)), put)
          .thenApply(
              res -> {
                if (!res.isSucceeded()) {
                  throw new Conflict(key + " already exists (expected: absent)");
                }
                long rev = res.getHeader().getRevision();
                return new Stored(key, value.deepCopy(), rev, rev);
              });
    }
    return guarded(key, expected, put, false, 1)
        .thenApply(
            res -> {
              long rev = res.getHeader().getRevision();
              var prev = res.getPutResponses().get(0);
              long created = prev.hasPrevKv() ? prev.getPrevKv().getCreateRevision() : rev;
              return new Stored(key, value.deepCopy(), created, rev);
            });
  }

  @Override
  public CompletionStage<Boolean> delete(String key, long expected) {
    return deleteAt(key, expected).thenApply(rev -> rev > 0);
  }

  @Override
  public CompletionStage<Long> deleteAt(String key, long expected) {
    if (expected == ABSENT) {
      return get(key)
          .thenApply(
              cur -> {
                if (cur.isPresent()) {
                  throw new Conflict(key + " exists (expected: absent)");
                }
                return 0L;
              });
    }
    var del = Op.delete(bytes(key), DeleteOption.DEFAULT);
    // The transaction's own revision: the store's highest one may be a later, unrelated write.
    return guarded(key, expected, del, true, 1)
        .thenApply(
            res ->
                res != null && res.getDeleteResponses().get(0).getDeleted() > 0
                    ? res.getHeader().getRevision()
                    : 0L);
  }

  /**
   * Reads the key, refuses it if the operator owns it, then runs {@code op} if its mod revision is
   * still the one read (and the caller's, unless {@link #ANY}). Completes with {@code null} for a
   * delete of a key that is not there.
   */
  private CompletableFuture<TxnResponse> guarded(
      String key, long expected, Op op, boolean delete, int attempt) {
    return timed(client.getKVClient().get(bytes(key)))
        .thenCompose(
            res -> {
              seen(res.getHeader().getRevision());
              var current = res.getKvs().isEmpty() ? null : res.getKvs().get(0);
              if (current != null) {
                var owner = OwnerLabels.owner(parse(current));
                if (owner != null) {
                  throw new Conflict(OwnerLabels.ownedMessage(key, owner));
                }
              }
              long modRevision = current == null ? 0 : current.getModRevision();
              if (expected != ANY && expected != modRevision) {
                throw new Conflict(mismatch(key, expected, modRevision));
              }
              if (current == null && delete) {
                return CompletableFuture.completedFuture(null);
              }
              var cmp =
                  current == null
                      ? new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.version(0))
                      : new Cmp(bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision));
              return txn(cmp, op)
                  .thenCompose(
                      t -> {
                        if (t.isSucceeded()) {
                          return CompletableFuture.completedFuture(t);
                        }
                        if (expected != ANY) {
                          throw new Conflict(mismatch(key, expected, -1));
                        }
                        if (attempt >= ATTEMPTS) {
                          throw new Conflict(
                              key
                                  + " changed by someone else "
                                  + ATTEMPTS
                                  + " times while writing");
                        }
                        return guarded(key, expected, op, delete, attempt + 1);
                      });
            });
  }

  private CompletableFuture<TxnResponse> txn(Cmp cmp, Op op) {
    return timed(client.getKVClient().txn().If(cmp).Then(op).commit())
        .thenApply(
            t -> {
              seen(t.getHeader().getRevision());
              return t;
            });
  }

  private static String mismatch(String key, long expected, long actual) {
    var now =
        actual < 0
            ? "it changed meanwhile"
            : actual == 0 ? "it does not exist" : "it is at " + actual;
    return key
        + " is not at revision "
        + expected
        + ": "
        + now
        + " (expected: the current modifiedIndex)";
  }

  @Override
  public long revision() {
    return revision.get();
  }

  @Override
  public void close() {
    if (ownsClient) {
      client.close();
    }
  }

  private void seen(long rev) {
    revision.accumulateAndGet(rev, Math::max);
  }

  /** An object read from etcd; {@code null} for a value that is not a JSON object. */
  private static Stored stored(String key, KeyValue kv) {
    var value = parse(kv);
    return value instanceof ObjectNode o
        ? new Stored(key, o, kv.getCreateRevision(), kv.getModRevision())
        : null;
  }

  private static com.fasterxml.jackson.databind.JsonNode parse(KeyValue kv) {
    try {
      return ModelJson.mapper().readTree(kv.getValue().getBytes());
    } catch (IOException e) {
      return null;
    }
  }

  private ByteSequence bytes(String key) {
    return ByteSequence.from(root + key, StandardCharsets.UTF_8);
  }

  /** etcd's future with a deadline, so a lost etcd fails the call instead of holding it. */
  private static <T> CompletableFuture<T> timed(CompletableFuture<T> f) {
    return f.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
