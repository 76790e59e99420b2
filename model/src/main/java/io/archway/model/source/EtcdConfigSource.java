package io.archway.model.source;

import io.archway.model.ConfigObject;
import io.archway.model.Keys;
import io.archway.model.Keys.Key;
import io.archway.model.Messages;
import io.archway.model.ModelJson;
import io.archway.model.ValidationException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config from etcd: one paged range read of the prefix at a single revision, then ONE watch
 * from that revision + 1. See {@code model/DESIGN.md} for how it recovers from compaction, restores
 * and lost connections. All state lives on one thread; jetcd's callbacks hand over to it.
 */
public final class EtcdConfigSource implements ConfigSource {

  private static final Logger log = LoggerFactory.getLogger(EtcdConfigSource.class);

  /**
   * How to reach etcd and how hard to try.
   *
   * @param endpoints e.g. {@code http://127.0.0.1:2379}
   * @param prefix the key prefix, {@code /apisix} by default
   * @param user etcd user, or {@code null}
   * @param password etcd password, or {@code null}
   * @param requestTimeout the limit for one read
   * @param probeInterval how often the connection and the revision are checked while watching
   * @param backoffMin first retry delay after a failure
   * @param backoffMax longest retry delay
   * @param pageSize keys per range request of a full read
   */
  public record Settings(
      List<String> endpoints,
      String prefix,
      String user,
      String password,
      Duration requestTimeout,
      Duration probeInterval,
      Duration backoffMin,
      Duration backoffMax,
      int pageSize,
      EtcdTls tls) {

    public Settings {
      endpoints = List.copyOf(endpoints);
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("etcd: no endpoints (expected: at least one URL)");
      }
    }

    public static Settings of(List<String> endpoints, String prefix) {
      return new Settings(
          endpoints,
          prefix,
          null,
          null,
          Duration.ofSeconds(5),
          Duration.ofSeconds(2),
          Duration.ofMillis(100),
          Duration.ofSeconds(2),
          500,
          null);
    }

    public Settings withTiming(Duration probeInterval, Duration backoffMin, Duration backoffMax) {
      return new Settings(
          endpoints,
          prefix,
          user,
          password,
          requestTimeout,
          probeInterval,
          backoffMin,
          backoffMax,
          pageSize,
          tls);
    }

    /** With TLS to etcd ({@code null}: plain). */
    public Settings withTls(EtcdTls tls) {
      return new Settings(
          endpoints,
          prefix,
          user,
          password,
          requestTimeout,
          probeInterval,
          backoffMin,
          backoffMax,
          pageSize,
          tls);
    }

    public Settings withAuth(String user, String password) {
      return new Settings(
          endpoints,
          prefix,
          user,
          password,
          requestTimeout,
          probeInterval,
          backoffMin,
          backoffMax,
          pageSize,
          tls);
    }
  }

  private final Settings settings;
  private final Keys keys;
  private final ByteSequence root;
  private final ByteSequence rootEnd;
  private final ScheduledExecutorService loop;
  private final Backoff backoff;
  private final ItemTracker tracker;
  private final KeyRevisions followed = new KeyRevisions();

  // Owned by `loop`.
  private Client client;
  private int endpointOffset; // the client's endpoints start at this one
  private long failingSince; // System.nanoTime() of the first failure in a row; 0: none
  private ConfigListener listener;
  private Watch.Watcher watcher;
  private long watchGeneration;
  private ScheduledFuture<?> probe;
  private boolean closed;

  // Written on `loop`, read by status() from other threads.
  private volatile long revision;
  private volatile boolean connected;
  private volatile boolean loaded;
  private volatile String lastError;
  private volatile long fullLoads;
  private volatile long clientsMade = 1;

  public EtcdConfigSource(Settings settings) {
    this.settings = settings;
    this.keys = Keys.of(settings.prefix());
    this.root = bytes(keys.root());
    this.rootEnd = OptionsUtil.prefixEndOf(root);
    this.endpointOffset = ThreadLocalRandom.current().nextInt(settings.endpoints().size());
    this.client = newClient(settings, endpointOffset);
    this.loop = Executors.newSingleThreadScheduledExecutor(Threads.daemon("archway-etcd-source"));
    this.backoff = new Backoff(settings.backoffMin(), settings.backoffMax());
    this.tracker = new ItemTracker(log, keys);
  }

  /**
   * A jetcd client on the endpoints from the {@code offset}th on, wrapping around. It talks to the
   * first of them it can reach ({@code pick_first}): one member at a time, and after a failure the
   * source moves to the next one, on a new client ({@link #renewClient}). Each request and the
   * watch carry etcd's require-leader metadata ({@code hasleader: true}): a member cut off from its
   * peers answers them at once with "no leader" (and ends such a watch after three election
   * timeouts without one) instead of serving a watch that will never see another change, or letting
   * a read wait for the request timeout. jetcd retries nothing: the source retries with its own
   * backoff.
   */
  private static Client newClient(Settings settings, int offset) {
    var endpoints = new ArrayList<String>();
    for (int i = 0; i < settings.endpoints().size(); i++) {
      endpoints.add(settings.endpoints().get((offset + i) % settings.endpoints().size()));
    }
    var builder =
        Client.builder()
            .endpoints(endpoints.toArray(String[]::new))
            .loadBalancerPolicy("pick_first")
            .connectTimeout(settings.requestTimeout())
            .waitForReady(false)
            .retryMaxAttempts(0)
            .retryMaxDuration(settings.requestTimeout())
            .keepaliveTime(Duration.ofSeconds(10))
            .keepaliveTimeout(Duration.ofSeconds(5))
            .header(REQUIRE_LEADER, "true")
            .maxInboundMessageSize(64 * 1024 * 1024);
    EtcdTls.access(builder, settings.user(), settings.password(), settings.tls());
    return builder.build();
  }

  /** etcd's metadata key: a request or watch with it fails on a member that has no leader. */
  static final String REQUIRE_LEADER = "hasleader";

  @Override
  public void start(ConfigListener listener) {
    loop.execute(
        () -> {
          this.listener = listener;
          fullLoad("start");
          probe =
              loop.scheduleWithFixedDelay(
                  this::probe,
                  settings.probeInterval().toMillis(),
                  settings.probeInterval().toMillis(),
                  TimeUnit.MILLISECONDS);
        });
  }

  @Override
  public SourceStatus status() {
    return new SourceStatus(
        "etcd " + String.join(",", settings.endpoints()) + " " + keys.prefix(),
        connected,
        loaded,
        revision,
        lastError,
        tracker.invalidReasons(),
        tracker.rejectedTotal(),
        fullLoads);
  }

  @Override
  public void close() {
    try {
      loop.submit(
              () -> {
                closed = true;
                if (probe != null) {
                  probe.cancel(false);
                }
                closeWatch();
                client.close();
              })
          .get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("etcd source: close did not finish cleanly: {}", e.toString());
    }
    loop.shutdownNow();
  }

  /** How many jetcd clients the source has made: 1, plus one per renewal after a long outage. */
  long clientsMade() {
    return clientsMade;
  }

  // ---- on the loop thread -------------------------------------------------------------------

  /** Reads everything at one revision, delivers it whole, then watches from the next revision. */
  private void fullLoad(String why) {
    if (closed) {
      return;
    }
    closeWatch();
    try {
      long t0 = System.nanoTime();
      var read = readAll(0, false);
      long t1 = System.nanoTime();
      var state = tracker.replaceAll(read.kvs(), read.revision());
      followed.replaceAll(read.kvs());
      long t2 = System.nanoTime();
      revision = read.revision();
      fullLoads++;
      onSuccess();
      listener.onState(state);
      loaded = true;
      log.info(
          "etcd source: loaded {} item(s) at revision {} ({}), {} invalid; read {} ms, validated {} ms",
          state.items().size(),
          revision,
          why,
          tracker.invalidReasons().size(),
          (t1 - t0) / 1_000_000,
          (t2 - t1) / 1_000_000);
      openWatch();
    } catch (Exception | LinkageError e) {
      // A class missing from the package (a LinkageError) is logged and retried like any failure,
      // never
      // lost in the executor.
      onFailure("full read", e);
      retryLater(() -> fullLoad(why));
    }
  }

  private record Read(List<KeyValue> kvs, long revision) {}

  /**
   * Paged range read, every page at the revision of the first, so the result is consistent.
   *
   * @param at the revision to read at, 0 for the current one
   * @param keysOnly keys and their revisions without values
   */
  private Read readAll(long at, boolean keysOnly) throws Exception {
    var out = new ArrayList<KeyValue>();
    var from = root;
    long rev = at;
    while (true) {
      var option =
          GetOption.builder()
              .withRange(rootEnd)
              .withSortField(GetOption.SortTarget.KEY)
              .withSortOrder(GetOption.SortOrder.ASCEND)
              .withLimit(settings.pageSize())
              .withRevision(rev)
              .withKeysOnly(keysOnly)
              .build();
      var res = await(client.getKVClient().get(from, option));
      if (rev == 0) {
        rev = res.getHeader().getRevision();
      }
      out.addAll(res.getKvs());
      if (!res.isMore() || res.getKvs().isEmpty()) {
        return new Read(out, rev);
      }
      var last = res.getKvs().get(res.getKvs().size() - 1).getKey().getBytes();
      var next = java.util.Arrays.copyOf(last, last.length + 1);
      from = ByteSequence.from(next);
    }
  }

  private void openWatch() {
    long generation = ++watchGeneration;
    var option =
        WatchOption.builder()
            .withRange(rootEnd)
            .withRevision(revision + 1)
            .withRequireLeader(true)
            .build();
    watcher =
        client
            .getWatchClient()
            .watch(
                root,
                option,
                Watch.listener(
                    res -> loop.execute(() -> onWatch(generation, res)),
                    err -> loop.execute(() -> onWatchError(generation, err)),
                    () -> {}));
  }

  private void closeWatch() {
    watchGeneration++;
    if (watcher != null) {
      watcher.close();
      watcher = null;
    }
  }

  private void onWatch(long generation, WatchResponse res) {
    if (generation != watchGeneration || closed) {
      return;
    }
    var changes = new ArrayList<ConfigChange>();
    for (var event : res.getEvents()) {
      var kv = event.getKeyValue();
      boolean delete = event.getEventType() == WatchEvent.EventType.DELETE;
      if (delete) {
        followed.delete(kv);
      } else {
        followed.put(kv);
      }
      var change = delete ? tracker.delete(kv) : tracker.put(kv);
      if (change != null) {
        changes.add(change);
      }
      revision = Math.max(revision, kv.getModRevision());
    }
    onSuccess();
    if (!changes.isEmpty()) {
      listener.onChanges(changes, revision);
    }
  }

  private void onWatchError(long generation, Throwable err) {
    if (generation != watchGeneration || closed) {
      return;
    }
    closeWatch();
    if (err instanceof CompactedException c) {
      log.info(
          "etcd source: watch from revision {} compacted (etcd compacted to {}); re-reading",
          revision + 1,
          c.getCompactedRevision());
      fullLoad("compacted");
      return;
    }
    onFailure("watch", err);
    retryLater(this::resume);
  }

  /**
   * After a lost connection: if etcd's history is no longer the one followed (its revision went
   * back, or it holds other keys at our revision: restored from a snapshot, perhaps written past
   * our revision since) or was compacted past our revision, re-read everything; otherwise watch
   * again from where we were, losing nothing and reading nothing again.
   */
  private void resume() {
    if (closed) {
      return;
    }
    try {
      if (reloadedAfterRestore() || reloadedAfterHistoryChanged()) {
        return;
      }
      onSuccess();
      openWatch();
      log.info("etcd source: reconnected, watching from revision {}", revision + 1);
    } catch (Exception e) {
      onFailure("reconnect", e);
      retryLater(this::resume);
    }
  }

  /** Health check while watching: a cheap count-only read that also reveals a restore. */
  private void probe() {
    if (closed || watcher == null) {
      return;
    }
    try {
      if (reloadedAfterRestore()) {
        return;
      }
      onSuccess();
    } catch (Exception e) {
      // The watch reports its own failure; here we only stop claiming to be connected. But a
      // member with no leader would end the watch only after three election timeouts: the source
      // moves on now.
      onFailure("probe", e);
      if (noLeader(e)) {
        closeWatch();
        retryLater(this::resume);
      }
    }
  }

  /** etcd's answer from a member that has no leader (with the require-leader metadata). */
  static boolean noLeader(Throwable e) {
    for (var t = e; t != null; t = t.getCause()) {
      if (String.valueOf(t.getMessage()).contains("etcdserver: no leader")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Asks etcd for its current revision; if it is below ours, etcd was restored from a snapshot, so
   * everything is read again.
   *
   * @return whether a full re-read was started
   */
  private boolean reloadedAfterRestore() throws Exception {
    long current = currentRevision();
    if (current >= revision) {
      return false;
    }
    log.warn(
        "etcd source: etcd revision went back from {} to {} (restored?); re-reading",
        revision,
        current);
    fullLoad("revision went back");
    return true;
  }

  /**
   * Reads etcd's keys (without values) at our revision; if they are not exactly those followed, its
   * history is another one (a restore from a snapshot, then writes past our revision), so
   * everything is read again; and so if that revision was compacted, as the watch would say.
   *
   * @return whether a full re-read was started
   */
  private boolean reloadedAfterHistoryChanged() throws Exception {
    List<KeyValue> kvs;
    try {
      kvs = readAll(revision, true).kvs();
    } catch (ExecutionException e) {
      if (!compacted(e.getCause())) {
        throw e;
      }
      log.info("etcd source: revision {} compacted while away; re-reading", revision);
      fullLoad("compacted");
      return true;
    }
    if (followed.matches(kvs)) {
      return false;
    }
    log.warn(
        "etcd source: etcd's {} key(s) at revision {} are not the {} followed (restored from a"
            + " snapshot and written since?); re-reading",
        kvs.size(),
        revision,
        followed.size());
    fullLoad("history changed");
    return true;
  }

  /** etcd's answer to a read at a compacted revision, as jetcd or gRPC hands it over. */
  static boolean compacted(Throwable e) {
    if (e instanceof CompactedException) {
      return true;
    }
    boolean outOfRange =
        e instanceof EtcdException ee
            ? ee.getErrorCode() == ErrorCode.OUT_OF_RANGE
            : Status.fromThrowable(e).getCode() == Status.Code.OUT_OF_RANGE;
    return outOfRange && String.valueOf(e.getMessage()).contains("compacted");
  }

  private long currentRevision() throws Exception {
    var option = GetOption.builder().withRange(rootEnd).withCountOnly(true).build();
    return await(client.getKVClient().get(root, option)).getHeader().getRevision();
  }

  private void retryLater(Runnable action) {
    if (closed) {
      return;
    }
    var delay = backoff.next();
    log.debug("etcd source: retry #{} in {} ms", backoff.attempts(), delay.toMillis());
    loop.schedule(
        () -> {
          renewClient();
          action.run();
        },
        delay.toNanos(),
        TimeUnit.NANOSECONDS);
  }

  /**
   * Every try after a failure is made on a new client, starting at the next endpoint: the member
   * that failed may be down, or cut off from its peers (and still answering), and the old client's
   * channel has a reconnect backoff of its own (gRPC's: 1 s, growing by 1.6 to 2 minutes; jetcd
   * does not expose it) that after a long outage would hold the tries back for seconds after etcd
   * is there again. A new channel dials at once.
   */
  private void renewClient() {
    if (closed || failingSince == 0) {
      return;
    }
    closeWatch();
    var old = client;
    endpointOffset = (endpointOffset + 1) % settings.endpoints().size();
    client = newClient(settings, endpointOffset);
    clientsMade++;
    old.close();
  }

  private void onSuccess() {
    connected = true;
    lastError = null;
    failingSince = 0;
    backoff.reset();
  }

  private void onFailure(String what, Throwable e) {
    var cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    var message = what + ": " + Messages.oneLine(cause);
    if (failingSince == 0) {
      failingSince = System.nanoTime();
    }
    if (connected || lastError == null) {
      log.warn("etcd source: {} failed, keeping the last good config: {}", what, message);
    }
    connected = false;
    lastError = message;
  }

  private <T> T await(java.util.concurrent.CompletableFuture<T> f) throws Exception {
    try {
      return f.get(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new TimeoutException(
          "no answer from etcd in " + settings.requestTimeout().toMillis() + " ms");
    }
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  /**
   * Validates items and remembers the valid ones and the rejected ones, so each rejection is logged
   * once and an invalid update leaves the last good value of its key in force.
   */
  static final class ItemTracker {

    private final Logger log;
    private final Keys keys;
    private final Map<Key, ConfigItem> items = new HashMap<>();
    private final Map<Key, Rejected> rejected = new HashMap<>();
    private volatile Map<String, String> reasons = Map.of();
    private volatile long rejectedTotal;

    private record Rejected(long modRevision, String reason) {}

    ItemTracker(Logger log, Keys keys) {
      this.log = log;
      this.keys = keys;
    }

    Map<String, String> invalidReasons() {
      return reasons;
    }

    long rejectedTotal() {
      return rejectedTotal;
    }

    ConfigState replaceAll(List<KeyValue> kvs, long revision) {
      // Parsing and validating is pure and most of a full read's cost: spread it over the cores,
      // then record the outcomes in key order on this thread.
      var parsed =
          kvs.parallelStream()
              .map(kv -> keyOf(kv).map(k -> new Parsed(k, kv, parse(k, kv))).orElse(null))
              .toList();
      // `items` still holds the previous state while recording: an invalid item falls back to it.
      var next = new HashMap<Key, ConfigItem>();
      var seenRejected = new HashSet<Key>();
      for (var p : parsed) {
        if (p == null) {
          continue;
        }
        var item = record(p.key(), p.kv(), p.outcome());
        if (item != null) {
          next.put(p.key(), item);
        } else {
          seenRejected.add(p.key());
          var last = items.get(p.key());
          if (last != null) {
            next.put(p.key(), last);
          }
        }
      }
      items.clear();
      items.putAll(next);
      rejected.keySet().retainAll(seenRejected);
      publishReasons();
      return new ConfigState(items, revision);
    }

    ConfigChange put(KeyValue kv) {
      var key = keyOf(kv);
      if (key.isEmpty()) {
        return null;
      }
      var item = record(key.get(), kv, parse(key.get(), kv));
      publishReasons();
      if (item == null) {
        return null;
      }
      items.put(key.get(), item);
      return new ConfigChange.Put(item);
    }

    ConfigChange delete(KeyValue kv) {
      var key = keyOf(kv);
      if (key.isEmpty()) {
        return null;
      }
      boolean wasRejected = rejected.remove(key.get()) != null;
      if (wasRejected) {
        publishReasons();
      }
      return items.remove(key.get()) != null
          ? new ConfigChange.Delete(key.get(), kv.getModRevision())
          : null;
    }

    private Optional<Key> keyOf(KeyValue kv) {
      return keys.parse(kv.getKey().toString(StandardCharsets.UTF_8));
    }

    private record Parsed(Key key, KeyValue kv, Object outcome) {}

    /** The object, or the {@link ValidationException} saying why there is none. */
    private static Object parse(Key key, KeyValue kv) {
      try {
        return ModelJson.read(key.kind(), kv.getValue().getBytes(), key.id(), key.toString());
      } catch (ValidationException e) {
        return e;
      }
    }

    private ConfigItem record(Key key, KeyValue kv, Object outcome) {
      if (outcome instanceof ConfigObject obj) {
        if (rejected.remove(key) != null) {
          log.info("config: {} is valid again", key);
        }
        return new ConfigItem(key, obj, kv.getModRevision());
      } else {
        var e = (ValidationException) outcome;
        var before = rejected.get(key);
        if (before == null || before.modRevision() != kv.getModRevision()) {
          rejectedTotal++;
        }
        // Said once: the same poison written again (a controller re-applying it, a loop) is
        // counted again but not logged again until its reason changes.
        if (before == null || !before.reason().equals(e.getMessage())) {
          log.warn(
              "config: skipping {} (revision {}){}: {}",
              key,
              kv.getModRevision(),
              items.containsKey(key) ? ", its last good value stays in force" : "",
              e.getMessage());
        }
        rejected.put(key, new Rejected(kv.getModRevision(), e.getMessage()));
        return null;
      }
    }

    private void publishReasons() {
      var m = new HashMap<String, String>();
      rejected.forEach((k, v) -> m.put(k.toString(), v.reason()));
      reasons = Map.copyOf(m);
    }
  }
}
