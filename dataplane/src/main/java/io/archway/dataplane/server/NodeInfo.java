package io.archway.dataplane.server;

import io.archway.dataplane.exchange.HttpMetrics;
import io.archway.dataplane.pipeline.InFlight;
import io.archway.dataplane.plugin.GatewayInfo;
import io.archway.model.BuildInfo;
import java.util.UUID;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/** The node's facts for the plugins' public endpoints, read from the server's own counters. */
final class NodeInfo implements GatewayInfo {

  private final String id = UUID.randomUUID().toString();
  private final long bootTime = System.currentTimeMillis() / 1000;
  private final String hostname = lookUpHostname();
  private final HttpMetrics http;
  private final InFlight inFlight;
  private final IntSupplier httpPort;
  private final Supplier<String> metrics;

  NodeInfo(HttpMetrics http, InFlight inFlight, IntSupplier httpPort, Supplier<String> metrics) {
    this.http = http;
    this.inFlight = inFlight;
    this.httpPort = httpPort;
    this.metrics = metrics;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String version() {
    return BuildInfo.current().version();
  }

  @Override
  public String hostname() {
    return hostname;
  }

  @Override
  public long bootTime() {
    return bootTime;
  }

  @Override
  public int httpPort() {
    return httpPort.getAsInt();
  }

  @Override
  public Connections connections() {
    long active = http.openConnections();
    long writing = inFlight.active();
    long answered = 0;
    for (int c = 1; c <= 5; c++) {
      answered += inFlight.answered(c);
    }
    long accepted = http.connectionsAccepted();
    // No count of heads being read is kept: a connection is waiting or has a request in flight.
    return new Connections(
        accepted, accepted, active, 0, writing, Math.max(0, active - writing), answered + writing);
  }

  @Override
  public String metrics() {
    return metrics.get();
  }

  @Override
  public String configStoreVersion() {
    return "unknown";
  }

  private static String lookUpHostname() {
    var env = System.getenv("HOSTNAME");
    if (env != null && !env.isEmpty()) {
      return env;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "localhost";
    }
  }
}
