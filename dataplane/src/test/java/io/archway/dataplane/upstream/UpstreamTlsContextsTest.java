package io.archway.dataplane.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.archway.dataplane.support.Transport;
import io.archway.dataplane.testing.Pki;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Upstream;
import io.netty.channel.EventLoopGroup;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TLS client contexts are made when the upstreams that need them are compiled, not at start and not
 * on an event loop at a first connection; settings that cannot be made are reported then.
 */
class UpstreamTlsContextsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final EventLoopGroup loops = Transport.selected().newLoopGroup(1, "tls-contexts-io");
  private final Upstreams upstreams = new Upstreams(Transport.selected(), loops, 1);

  @AfterEach
  void stop() {
    upstreams.close();
    loops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static Upstream upstream(String scheme, Map<String, Object> tls) throws Exception {
    var json = new LinkedHashMap<String, Object>();
    json.put("scheme", scheme);
    json.put("nodes", Map.of("127.0.0.1:8443", 1));
    if (tls != null) {
      json.put("tls", tls);
    }
    return (Upstream) ModelJson.read(Kind.UPSTREAMS, JSON.writeValueAsBytes(json), "u", "test");
  }

  @Test
  void noneWithoutTlsUpstreamsThenMadeAsTheyAreCompiled() throws Exception {
    var pools = upstreams.pools();
    upstreams.update(Map.of("upstreams/plain", upstream("http", null)));
    assertThat(pools.tls().made(Endpoint.TlsOptions.TRUSTING, false)).isFalse();
    assertThat(pools.tls().made(Endpoint.TlsOptions.VERIFYING, false)).isFalse();

    upstreams.update(
        Map.of(
            "upstreams/plain", upstream("http", null),
            "upstreams/tls", upstream("https", null),
            "upstreams/grpcs", upstream("grpcs", Map.of("verify", true))));
    // Before any connection: made on this (the compiling) thread.
    assertThat(pools.tls().made(Endpoint.TlsOptions.TRUSTING, false)).isTrue();
    assertThat(pools.tls().made(Endpoint.TlsOptions.VERIFYING, true)).isTrue();
    assertThat(upstreams.tlsProblems()).isEmpty();
  }

  @Test
  void aBadClientCertificateIsReportedWhenCompiledNamingTheUpstream() throws Exception {
    var ca = Pki.authority("Test CA");
    var client = Pki.client(ca, "archway");
    var other = Pki.client(ca, "other");
    upstreams.update(
        Map.of(
            "upstreams/good",
            upstream(
                "https",
                Map.of("client_cert", Pki.chainPem(client), "client_key", Pki.keyPem(client))),
            "upstreams/mismatched",
            upstream(
                "https",
                Map.of("client_cert", Pki.chainPem(client), "client_key", Pki.keyPem(other))),
            "upstreams/garbled",
            upstream(
                "https",
                Map.of(
                    "client_cert",
                    "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
                    "client_key",
                    Pki.keyPem(client)))));
    var problems = upstreams.tlsProblems();
    assertThat(problems).containsOnlyKeys("upstreams/mismatched", "upstreams/garbled");
    assertThat(problems.values())
        .allSatisfy(p -> assertThat(p).startsWith("upstream TLS settings:"));

    // A fixed certificate clears the problem at the next compile.
    upstreams.update(
        Map.of(
            "upstreams/mismatched",
            upstream(
                "https",
                Map.of("client_cert", Pki.chainPem(other), "client_key", Pki.keyPem(other)))));
    assertThat(upstreams.tlsProblems()).isEmpty();
  }
}
