package io.archway.dataplane.plugin;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One Redis server through Lettuce, connected on first use without blocking anyone: a request that
 * needs it before the connection is up waits on the connection's future; a failed connect is tried
 * again by the next request after a second, and Lettuce reconnects an established connection by
 * itself.
 */
public final class RedisLink implements AutoCloseable {

  /** Where Redis is, as limit-count's {@code redis_*} fields say. */
  public record Settings(
      String host, int port, String username, String password, int database, long timeoutMillis) {

    String key() {
      return host + ":" + port + "/" + database + "/" + username + "/" + password;
    }
  }

  private final RedisClient client;
  private final RedisURI uri;
  private volatile CompletableFuture<StatefulRedisConnection<String, String>> connection;
  private volatile long failedAt;

  RedisLink(Settings settings) {
    uri =
        RedisURI.builder()
            .withHost(settings.host())
            .withPort(settings.port())
            .withDatabase(settings.database())
            .withTimeout(Duration.ofMillis(settings.timeoutMillis()))
            .build();
    if (settings.password() != null) {
      if (settings.username() != null) {
        uri.setUsername(settings.username());
      }
      uri.setPassword(settings.password().toCharArray());
    }
    this.client = RedisClient.create(uri);
  }

  /**
   * A Lua script run by its digest ({@code EVALSHA}), loaded again by {@code EVAL} when Redis does
   * not have it (a restart or a flush): the rate limiters' atomic steps.
   */
  public static final class Script {
    private final String source;
    private final String sha;

    public Script(String source) {
      this.source = source;
      try {
        this.sha =
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-1")
                        .digest(source.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * Runs the script on {@code key} over {@code link}; never completes exceptionally: the value is
     * the script's reply list, or the failure (a refused connection, a timeout, a script error).
     */
    public CompletionStage<Object> run(RedisLink link, String key, String... args) {
      var keys = new String[] {key};
      return link.connection()
          .thenCompose(
              c ->
                  c.async()
                      .<java.util.List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args)
                      .exceptionallyCompose(
                          err ->
                              unwrap(err) instanceof RedisNoScriptException
                                  ? c.async()
                                      .<java.util.List<Object>>eval(
                                          source, ScriptOutputType.MULTI, keys, args)
                                  : CompletableFuture.failedFuture(err)))
          .handle((r, err) -> err != null ? unwrap(err) : r);
    }

    private static Throwable unwrap(Throwable t) {
      return t instanceof java.util.concurrent.CompletionException && t.getCause() != null
          ? t.getCause()
          : t;
    }
  }

  /** The connection, once it is up. */
  public CompletionStage<StatefulRedisConnection<String, String>> connection() {
    var c = connection;
    if (c == null || (c.isCompletedExceptionally() && System.nanoTime() - failedAt > 1e9)) {
      synchronized (this) {
        c = connection;
        if (c == null || (c.isCompletedExceptionally() && System.nanoTime() - failedAt > 1e9)) {
          c = client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture();
          c.whenComplete(
              (ok, err) -> {
                if (err != null) {
                  failedAt = System.nanoTime();
                }
              });
          connection = c;
        }
      }
    }
    return c;
  }

  @Override
  public void close() {
    var c = connection;
    if (c != null && c.isDone() && !c.isCompletedExceptionally()) {
      c.join().closeAsync();
    }
    client.shutdownAsync();
  }
}
