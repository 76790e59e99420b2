package io.archway.e2e.chaos;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** Writes of the operator's keys ({@code /apisix/KEY}) straight to etcd, for the chaos fixtures. */
final class EtcdKeys {

  private EtcdKeys() {}

  /** Writes {@code /apisix/KEY} (for example {@code routes/1}) and waits for etcd's answer. */
  static void put(Client client, String key, String json) throws Exception {
    client.getKVClient().put(bytes("/apisix/" + key), bytes(json)).get(10, TimeUnit.SECONDS);
  }

  /**
   * Writes every key, at most {@code inFlight} writes at a time, as a controller re-applying all
   * its objects does; returns once etcd has answered them all.
   */
  static void putAll(Client client, Map<String, String> keys, int inFlight) throws Exception {
    var permits = new Semaphore(inFlight);
    var writes = new ArrayList<CompletableFuture<?>>(keys.size());
    for (var e : keys.entrySet()) {
      permits.acquire();
      writes.add(
          client
              .getKVClient()
              .put(bytes("/apisix/" + e.getKey()), bytes(e.getValue()))
              .whenComplete((r, t) -> permits.release()));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
