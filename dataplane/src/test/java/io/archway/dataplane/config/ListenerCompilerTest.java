package io.archway.dataplane.config;

import static io.archway.dataplane.config.CompiledListeners.Socket.tcp;
import static io.archway.dataplane.config.CompiledListeners.Socket.udp;
import static org.assertj.core.api.Assertions.assertThat;

import io.archway.dataplane.tls.ServerCertificates;
import io.archway.model.Keys;
import io.archway.model.Kind;
import io.archway.model.Listener;
import io.archway.model.Listener.Protocol;
import io.archway.model.source.ConfigItem;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How listeners objects merge into ports, and which are refused. */
class ListenerCompilerTest {

  private static final CompiledListeners.Settings NO_OPTIONS =
      new CompiledListeners.Settings(Map.of(tcp(9080), "HTTP", tcp(9091), "status"), false);

  private final ListenerCompiler compiler = new ListenerCompiler();

  private static Map<String, ConfigItem> items(Listener... listeners) {
    var out = new HashMap<String, ConfigItem>();
    for (var l : listeners) {
      out.put(l.id(), new ConfigItem(new Keys.Key(Kind.LISTENERS, l.id()), l, 1));
    }
    return out;
  }

  private static Listener listener(String id, int port, Protocol protocol) {
    return new Listener(id, null, null, port, protocol, null, null, null, null, null);
  }

  @Test
  void oneProtocolPerPortTheFirstByIdThenTheOneServingKeepsIt() {
    var rejections = new Rejections();
    var out =
        compiler.compile(
            items(listener("b", 8000, Protocol.HTTP), listener("c", 8000, Protocol.TCP)),
            NO_OPTIONS,
            ServerCertificates.EMPTY,
            rejections);
    assertThat(out.ports().get(tcp(8000)).protocol()).isEqualTo(Protocol.HTTP);
    assertThat(out.ports().get(tcp(8000)).ids()).containsExactly("b");
    assertThat(rejections.counts()).containsEntry(Kind.LISTENERS, 1);
    assertThat(rejections.messages())
        .containsExactly(
            "listeners/c: not served: port 8000: TCP conflicts with HTTP on port 8000 of"
                + " listeners/b (expected: one protocol per port)");

    // A TCP listener sorting first arrives: the port keeps serving HTTP; the refusal of c is
    // counted again without a second warning.
    rejections = new Rejections();
    out =
        compiler.compile(
            items(
                listener("a", 8000, Protocol.TCP),
                listener("b", 8000, Protocol.HTTP),
                listener("c", 8000, Protocol.TCP)),
            NO_OPTIONS,
            ServerCertificates.EMPTY,
            rejections);
    assertThat(out.ports().get(tcp(8000)).protocol()).isEqualTo(Protocol.HTTP);
    assertThat(rejections.counts()).containsEntry(Kind.LISTENERS, 2);
    assertThat(rejections.messages()).hasSize(1).allMatch(l -> l.startsWith("listeners/a:"));
  }

  @Test
  void optionsPortsAndPrivilegedPorts() {
    var rejections = new Rejections();
    var out =
        compiler.compile(
            items(
                listener("same", 9080, Protocol.HTTP),
                listener("status", 9091, Protocol.HTTP),
                listener("low", 80, Protocol.HTTP)),
            NO_OPTIONS,
            ServerCertificates.EMPTY,
            rejections);
    assertThat(out.ports().get(tcp(9080)).options()).isTrue();
    assertThat(out.ports()).doesNotContainKey(tcp(9091));
    assertThat(out.ports().get(tcp(10080)).port()).isEqualTo(80);
    assertThat(rejections.messages())
        .containsExactly(
            "listeners/status: not served: port 9091 is the dataplane's status port (from its"
                + " options; expected: another port, or protocol status)");

    var privileged = new CompiledListeners.Settings(Map.of(), true);
    out =
        new ListenerCompiler()
            .compile(
                items(listener("low", 80, Protocol.HTTP)),
                privileged,
                ServerCertificates.EMPTY,
                new Rejections());
    assertThat(out.ports().get(tcp(80)).bindPort()).isEqualTo(80);
  }

  @Test
  void nothingBeforeTheOptionsPortsAreKnownAndHttpsWithoutAServedSslIsRefused() {
    var rejections = new Rejections();
    assertThat(
            compiler
                .compile(
                    items(listener("a", 8000, Protocol.HTTP)),
                    null,
                    ServerCertificates.EMPTY,
                    rejections)
                .ports())
        .isEmpty();
    var https =
        new Listener(
            "s", null, null, 8443, Protocol.HTTPS, List.of("missing"), null, null, null, null);
    var out = compiler.compile(items(https), NO_OPTIONS, ServerCertificates.EMPTY, rejections);
    assertThat(out.ports()).isEmpty();
    assertThat(rejections.messages())
        .containsExactly(
            "listeners/s: not served: ssl_ids: none of [missing] is a served ssl object"
                + " (expected: an ssl id)");
  }

  @Test
  void udpSharesAPortNumberWithAnyTcpProtocolAsItIsAnotherSocket() {
    var options =
        new CompiledListeners.Settings(
            Map.of(tcp(9080), "HTTP", tcp(9091), "status", udp(9053), "UDP"), false);
    var rejections = new Rejections();
    var out =
        compiler.compile(
            items(
                listener("dns-tcp", 5300, Protocol.TCP),
                listener("dns-udp", 5300, Protocol.UDP),
                listener("web", 9080, Protocol.HTTP),
                listener("web-udp", 9080, Protocol.UDP),
                listener("quic", 8443, Protocol.UDP),
                listener("tls", 8443, Protocol.TLS),
                listener("status-udp", 9091, Protocol.UDP),
                listener("udp-option", 9053, Protocol.UDP),
                listener("tcp-on-udp-option", 9053, Protocol.TCP),
                listener("low-udp", 53, Protocol.UDP),
                listener("low-tcp", 53, Protocol.TCP)),
            options,
            ServerCertificates.EMPTY,
            rejections);
    assertThat(rejections.messages()).isEmpty();
    assertThat(out.ports().get(tcp(5300)).ids()).containsExactly("dns-tcp");
    assertThat(out.ports().get(udp(5300)).ids()).containsExactly("dns-udp");
    assertThat(out.ports().get(tcp(9080)).options()).isTrue();
    assertThat(out.ports().get(udp(9080)).options()).isFalse();
    assertThat(out.ports().get(udp(9080)).protocol()).isEqualTo(Protocol.UDP);
    assertThat(out.ports().get(tcp(8443)).protocol()).isEqualTo(Protocol.TLS);
    assertThat(out.ports().get(udp(8443)).protocol()).isEqualTo(Protocol.UDP);
    assertThat(out.ports().get(udp(9091)).options()).isFalse();
    assertThat(out.ports().get(udp(9053)).options()).isTrue();
    assertThat(out.ports().get(tcp(9053)).options()).isFalse();
    assertThat(out.ports().get(udp(10053)).port()).isEqualTo(53);
    assertThat(out.ports().get(tcp(10053)).port()).isEqualTo(53);
    assertThat(out.ports().get(udp(5300)).socket()).isEqualTo(udp(5300));

    // Two UDP listeners on one port are one socket; TCP and TLS on one port still conflict.
    rejections = new Rejections();
    out =
        new ListenerCompiler()
            .compile(
                items(
                    listener("a", 5300, Protocol.UDP),
                    listener("b", 5300, Protocol.UDP),
                    listener("c", 5300, Protocol.TCP),
                    listener("d", 5300, Protocol.TLS)),
                NO_OPTIONS,
                ServerCertificates.EMPTY,
                rejections);
    assertThat(out.ports().get(udp(5300)).ids()).containsExactly("a", "b");
    assertThat(out.ports().get(tcp(5300)).ids()).containsExactly("c");
    assertThat(rejections.messages())
        .containsExactly(
            "listeners/d: not served: port 5300: TLS conflicts with TCP on port 5300 of"
                + " listeners/c (expected: one protocol per port)");
  }
}
