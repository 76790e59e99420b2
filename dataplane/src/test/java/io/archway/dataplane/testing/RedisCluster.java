package io.archway.dataplane.testing;

import static org.awaitility.Awaitility.await;

import io.archway.model.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster of {@code masters} {@code redis-server}s (no replicas) on loopback ports of
 * their own, its slots shared out by {@code redis-cli --cluster create}. Skips the test when Redis
 * is not installed.
 */
public final class RedisCluster implements AutoCloseable {

  private final List<RedisServer> servers = new ArrayList<>();

  public RedisCluster(Path dir, int masters) throws IOException, InterruptedException {
    RedisServer.assumeInstalled();
    try {
      for (int i = 0; i < masters; i++) {
        int port = Ports.free();
        servers.add(
            new RedisServer(
                dir,
                port,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                dir.resolve("nodes-" + port + ".conf").toString()));
      }
      var create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      servers.forEach(s -> create.add(s.node()));
      create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
      var log = dir.resolve("cluster-create.log");
      var cli =
          new ProcessBuilder(create).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      if (!cli.waitFor(60, TimeUnit.SECONDS)) {
        cli.destroyForcibly().waitFor();
        throw new IllegalStateException("redis-cli --cluster create did not finish");
      }
      if (cli.exitValue() != 0) {
        throw new IllegalStateException("redis-cli --cluster create: " + Files.readString(log));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> servers.stream().allMatch(RedisCluster::ok));
    } catch (IOException | InterruptedException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private static boolean ok(RedisServer s) {
    try {
      return s.call("CLUSTER", "INFO").contains("cluster_state:ok");
    } catch (IOException e) {
      return false;
    }
  }

  /** The nodes as {@code redis_cluster_nodes} lists them: {@code 127.0.0.1:port}. */
  public List<String> nodes() {
    return servers.stream().map(RedisServer::node).toList();
  }

  /** Every node, a master each. */
  public List<RedisServer> servers() {
    return List.copyOf(servers);
  }

  /** {@link #nodes()} as a YAML flow sequence. */
  public String nodesYaml() {
    return nodes().stream().map(n -> "\"" + n + "\"").toList().toString();
  }

  @Override
  public void close() {
    servers.forEach(RedisServer::close);
  }
}
