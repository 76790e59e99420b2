package io.archway.dataplane.config.xds;

import io.archway.dataplane.support.Prometheus;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The xDS source's counters, labelled with the protocol spoken: responses ACKed and NACKed, and the
 * config updates delivered. Written on the source's thread, read by {@code /metrics}.
 */
public final class XdsMetrics {

  private static final int ACK = 0;
  private static final int NACK = 1;
  private static final int UPDATE = 2;

  private final String protocol;
  private final AtomicLongArray counts = new AtomicLongArray(3);

  XdsMetrics(XdsConfigSource.Protocol protocol) {
    this.protocol = protocol.name().toLowerCase(Locale.ROOT);
  }

  void ack() {
    counts.incrementAndGet(ACK);
  }

  void nack() {
    counts.incrementAndGet(NACK);
  }

  void update() {
    counts.incrementAndGet(UPDATE);
  }

  long acks() {
    return counts.get(ACK);
  }

  /** {@code archway_xds_responses_total{protocol,result}}, {@code archway_xds_updates_total}. */
  public void render(StringBuilder out) {
    Prometheus.head(
        out,
        "archway_xds_responses_total",
        "counter",
        "xDS responses handled, by protocol (sotw, delta) and answer (ack, nack).");
    line(out, "archway_xds_responses_total", ",result=\"ack\"", counts.get(ACK));
    line(out, "archway_xds_responses_total", ",result=\"nack\"", counts.get(NACK));
    Prometheus.head(
        out,
        "archway_xds_updates_total",
        "counter",
        "Config updates delivered from xDS (the first config included), by protocol.");
    line(out, "archway_xds_updates_total", "", counts.get(UPDATE));
  }

  private void line(StringBuilder out, String name, String labels, long value) {
    out.append(name)
        .append("{protocol=\"")
        .append(protocol)
        .append('"')
        .append(labels)
        .append("} ")
        .append(value)
        .append('\n');
  }
}
