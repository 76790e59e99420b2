package io.archway.model;

import java.util.List;

/**
 * An upstream's {@code checks}: active probes and passive observation of real traffic, with the
 * fields and defaults of APISIX (lua-resty-healthcheck). The records keep what was written; {@link
 * #withDefaults()} gives the values in force.
 */
public record HealthChecks(Active active, Passive passive) {

  public HealthChecks withDefaults() {
    return new HealthChecks(
        active == null ? null : active.withDefaults(),
        passive == null ? null : passive.withDefaults());
  }

  static HealthChecks read(Fields f, String path) {
    var active = f.child("active", Active::read);
    var passive = f.child("passive", Passive::read);
    f.required("active", "object; passive checks need active ones");
    return new HealthChecks(active, passive);
  }

  // "grpc" is Archway's: grpc.health.v1.Health/Check over h2c (APISIX has http, https, tcp).
  private static final Fields.Check TYPE = Fields.Check.oneOf("http", "https", "tcp", "grpc");

  /** Probes the gateway sends to each node. */
  public record Active(
      String type,
      Double timeout,
      Integer concurrency,
      String host,
      Integer port,
      String httpPath,
      Boolean httpsVerifyCertificate,
      List<String> reqHeaders,
      Healthy healthy,
      Unhealthy unhealthy) {

    public Active withDefaults() {
      return new Active(
          type == null ? "http" : type,
          timeout == null ? 1.0 : timeout,
          concurrency == null ? 10 : concurrency,
          host,
          port,
          httpPath == null ? "/" : httpPath,
          httpsVerifyCertificate == null || httpsVerifyCertificate,
          reqHeaders == null ? List.of() : reqHeaders,
          (healthy == null ? new Healthy(null, null, null) : healthy)
              .withDefaults(1, List.of(200, 302), 2),
          (unhealthy == null ? new Unhealthy(null, null, null, null, null) : unhealthy)
              .withDefaults(1, List.of(429, 404, 500, 501, 502, 503, 504, 505), 5, 2, 3));
    }

    static Active read(Fields f, String path) {
      return new Active(
          f.string("type", TYPE),
          f.number("timeout", 0, true),
          f.integer("concurrency", 1, Integer.MAX_VALUE),
          f.string("host", Addresses.HOST_NAME),
          f.integer("port", 1, 65535),
          f.string("http_path"),
          f.bool("https_verify_certificate"),
          f.strings("req_headers", 1, true),
          f.child("healthy", (c, p) -> Healthy.read(c, true)),
          f.child("unhealthy", (c, p) -> Unhealthy.read(c, true)));
    }
  }

  /** Observation of proxied responses and connection failures. */
  public record Passive(String type, Healthy healthy, Unhealthy unhealthy) {

    public Passive withDefaults() {
      return new Passive(
          type == null ? "http" : type,
          (healthy == null ? new Healthy(null, null, null) : healthy)
              .withDefaults(
                  null,
                  List.of(
                      200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
                      305, 306, 307, 308),
                  5),
          (unhealthy == null ? new Unhealthy(null, null, null, null, null) : unhealthy)
              .withDefaults(null, List.of(429, 500, 503), 5, 2, 7));
    }

    static Passive read(Fields f, String path) {
      return new Passive(
          f.string("type", TYPE),
          f.child("healthy", (c, p) -> Healthy.read(c, false)),
          f.child("unhealthy", (c, p) -> Unhealthy.read(c, false)));
    }
  }

  /** When a node counts as healthy again. {@code interval} is for active checks only. */
  public record Healthy(Integer interval, List<Integer> httpStatuses, Integer successes) {

    Healthy withDefaults(Integer interval, List<Integer> statuses, int successes) {
      return new Healthy(
          this.interval == null ? interval : this.interval,
          httpStatuses == null ? statuses : httpStatuses,
          this.successes == null ? successes : this.successes);
    }

    static Healthy read(Fields f, boolean active) {
      return new Healthy(
          active ? f.integer("interval", 1, Integer.MAX_VALUE) : null,
          f.integers("http_statuses", 200, 599),
          f.integer("successes", active ? 1 : 0, 254));
    }
  }

  /** When a node counts as unhealthy. {@code interval} is for active checks only. */
  public record Unhealthy(
      Integer interval,
      List<Integer> httpStatuses,
      Integer httpFailures,
      Integer tcpFailures,
      Integer timeouts) {

    Unhealthy withDefaults(
        Integer interval, List<Integer> statuses, int httpFailures, int tcpFailures, int timeouts) {
      return new Unhealthy(
          this.interval == null ? interval : this.interval,
          httpStatuses == null ? statuses : httpStatuses,
          this.httpFailures == null ? httpFailures : this.httpFailures,
          this.tcpFailures == null ? tcpFailures : this.tcpFailures,
          this.timeouts == null ? timeouts : this.timeouts);
    }

    static Unhealthy read(Fields f, boolean active) {
      int min = active ? 1 : 0;
      return new Unhealthy(
          active ? f.integer("interval", 1, Integer.MAX_VALUE) : null,
          f.integers("http_statuses", 200, 599),
          f.integer("http_failures", min, 254),
          f.integer("tcp_failures", min, 254),
          f.integer("timeouts", min, 254));
    }
  }
}
