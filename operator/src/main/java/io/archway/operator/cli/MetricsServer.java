package io.archway.operator.cli;

import com.sun.net.httpserver.HttpServer;
import io.archway.operator.reconciler.ArchwayOperator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** {@code /metrics} (Prometheus text), {@code /healthz} and {@code /readyz} of the operator. */
final class MetricsServer implements AutoCloseable {

  private final HttpServer server;

  private MetricsServer(HttpServer server) {
    this.server = server;
  }

  static MetricsServer start(InetSocketAddress address, ArchwayOperator operator)
      throws IOException {
    return start(address, operator.metrics(), operator::leader);
  }

  /** For a command without Kubernetes (the seed): {@code leader} says whether it leads. */
  static MetricsServer start(
      InetSocketAddress address,
      io.archway.operator.reconciler.OperatorMetrics metrics,
      java.util.function.BooleanSupplier leader)
      throws IOException {
    var server = HttpServer.create(address, 16);
    server.createContext("/metrics", ex -> reply(ex, 200, metrics.render()));
    server.createContext("/healthz", ex -> reply(ex, 200, "ok\n"));
    // Ready to take over as well as when leading: a replica waiting for the Lease is healthy.
    server.createContext(
        "/readyz",
        ex -> reply(ex, 200, leader.getAsBoolean() ? "ready, leader\n" : "ready, standby\n"));
    server.start();
    return new MetricsServer(server);
  }

  private static void reply(com.sun.net.httpserver.HttpExchange ex, int code, String body)
      throws IOException {
    var bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    ex.sendResponseHeaders(code, bytes.length);
    try (var out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
