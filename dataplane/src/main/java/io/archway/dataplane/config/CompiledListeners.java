package io.archway.dataplane.config;

import io.archway.dataplane.tls.ServerCertificates;
import io.archway.model.Listener;
import java.util.List;
import java.util.Map;

/**
 * The ports the {@code listeners} objects ask for, merged and checked: one {@link Port} per socket
 * to bind, with what it serves. Listeners refused (a protocol conflict, an options port of another
 * protocol) are not here; {@link ConfigCompiler#rejected()} counts them and the log says why.
 *
 * @param ports by the socket bound (a UDP port and a TCP one may share a number)
 */
public record CompiledListeners(Map<Socket, Port> ports) {

  public static final CompiledListeners EMPTY = new CompiledListeners(Map.of());

  public CompiledListeners {
    ports = Map.copyOf(ports);
  }

  /**
   * One port from configuration.
   *
   * @param port the port declared, what {@code server_port} is on its connections
   * @param bindPort the port bound: {@code port}, or {@code port + 10000} for a privileged port
   *     when the dataplane may not bind those
   * @param protocol what it serves
   * @param ids the listeners merged into it, by id
   * @param certificates HTTPS: the certificates of their {@code ssl_ids}, by SNI among them, the
   *     first one when none matches; else {@link ServerCertificates#EMPTY}
   * @param options whether a port of the dataplane's options serves it already (same protocol):
   *     nothing is bound for it
   */
  public record Port(
      int port,
      int bindPort,
      Listener.Protocol protocol,
      List<String> ids,
      List<String> sslIds,
      ServerCertificates certificates,
      boolean options) {

    public Port {
      ids = List.copyOf(ids);
      sslIds = List.copyOf(sslIds);
    }

    /** The socket it binds. */
    public Socket socket() {
      return Socket.of(bindPort, protocol);
    }
  }

  /**
   * A socket to bind: a port number and its transport. UDP is a transport of its own; every other
   * protocol (HTTP, HTTPS, TLS, TCP, and the options' status and admin ports) is on TCP, so a UDP
   * port and a TCP one with the same number are two sockets that never conflict.
   */
  public record Socket(int port, boolean udp) {

    public static Socket tcp(int port) {
      return new Socket(port, false);
    }

    public static Socket udp(int port) {
      return new Socket(port, true);
    }

    static Socket of(int port, Listener.Protocol protocol) {
      return new Socket(port, protocol == Listener.Protocol.UDP);
    }

    /** {@code udp} or {@code tcp}, as the metrics' {@code transport} label says it. */
    public String transport() {
      return udp ? "udp" : "tcp";
    }

    @Override
    public String toString() {
      return port + "/" + transport();
    }
  }

  /**
   * What the listeners are compiled against: the sockets the dataplane's options bind (by socket,
   * their protocol: {@code HTTP}, {@code HTTPS}, {@code TCP}, {@code UDP}, or {@code status}/{@code
   * admin}, which no listener may share) and whether ports below 1024 are bound as they are.
   */
  public record Settings(Map<Socket, String> optionPorts, boolean privilegedPorts) {
    public Settings {
      optionPorts = Map.copyOf(optionPorts);
    }
  }

  /** The port bound for a declared one. */
  public static int bindPort(int port, boolean privilegedPorts) {
    return port < 1024 && !privilegedPorts ? port + 10000 : port;
  }
}
