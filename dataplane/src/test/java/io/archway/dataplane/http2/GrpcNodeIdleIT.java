package io.archway.dataplane.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.archway.dataplane.testing.Gateways;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 connections to nodes follow the upstream's {@code keepalive_pool.idle_timeout}: kept for
 * the next calls while in use, closed once they have had no stream for that long.
 */
class GrpcNodeIdleIT {

  @TempDir Path dir;
  Server server;
  Gateways gw;
  ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (gw != null) {
      gw.close();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  private void start(String keepalive) throws Exception {
    server = GrpcIT.start(new GrpcIT.Echo(), null);
    gw =
        Gateways.start(
            dir,
            """
            routes:
              - id: echo
                uri: /test.Echo/*
                upstream: {scheme: grpc, nodes: {"%s": 1}, keepalive_pool: %s}
            """
                .formatted(GrpcIT.node(server), keepalive),
            o -> o.withHttp2(H2Settings.DEFAULTS.withH2c(true)));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", gw.port()).usePlaintext().build();
  }

  private byte[] call(String text) {
    return ClientCalls.blockingUnaryCall(
        channel,
        GrpcIT.UNARY,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        GrpcIT.bytes(text));
  }

  /** The gauge {@code archway_upstream_connections} of the status port's metrics. */
  private int nodeConnections() throws Exception {
    return gw.status("/metrics")
        .lines()
        .filter(l -> l.startsWith("archway_upstream_connections "))
        .mapToInt(l -> Integer.parseInt(l.substring(l.indexOf(' ') + 1).trim()))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void anIdleNodeConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    start("{idle_timeout: 1}");
    assertThat(GrpcIT.text(call("one"))).isEqualTo("one");
    assertThat(nodeConnections()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> nodeConnections() == 0);
    // The next call opens a new connection and is served.
    assertThat(GrpcIT.text(call("two"))).isEqualTo("two");
  }

  @Test
  void aConnectionInUseIsKeptAcrossCalls() throws Exception {
    start("{idle_timeout: 60}");
    for (int i = 0; i < 20; i++) {
      assertThat(GrpcIT.text(call("call " + i))).isEqualTo("call " + i);
    }
    assertThat(nodeConnections()).isEqualTo(1);
  }
}
