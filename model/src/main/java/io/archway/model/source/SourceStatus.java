package io.archway.model.source;

import java.util.Map;

/**
 * What a config source says about itself, for {@code /readyz} and {@code /metrics}.
 *
 * @param source e.g. {@code etcd http://127.0.0.1:2379 /apisix} or {@code file apisix.yaml}
 * @param connected the store answers (always true for a readable file)
 * @param loaded a first full config has been delivered
 * @param revision the newest revision delivered
 * @param lastError the last failure, {@code null} if none since the last success
 * @param invalid the items skipped now, key to reason
 * @param rejectedTotal items rejected since start, each (key, revision) counted once
 * @param fullLoads full reads since start (1 + re-reads after compaction, restore or reload)
 */
public record SourceStatus(
    String source,
    boolean connected,
    boolean loaded,
    long revision,
    String lastError,
    Map<String, String> invalid,
    long rejectedTotal,
    long fullLoads) {

  public SourceStatus {
    invalid = Map.copyOf(invalid);
  }
}
