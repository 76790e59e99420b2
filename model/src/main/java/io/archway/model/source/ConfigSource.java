package io.archway.model.source;

/** Where the gateway's config comes from: etcd ({@link EtcdConfigSource}) or a file. */
public interface ConfigSource extends AutoCloseable {

  /** Starts delivering the config to {@code listener}; returns at once. */
  void start(ConfigListener listener);

  SourceStatus status();

  /** Stops watching; no listener call starts after this returns. */
  @Override
  void close();
}
