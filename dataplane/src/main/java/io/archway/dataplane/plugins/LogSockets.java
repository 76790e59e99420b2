package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.LogBatcher;
import io.archway.dataplane.support.TlsSockets;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.function.Function;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLSocket;

/**
 * The loggers' TCP sender (tcp-logger, error-log-logger): a connection per batch, as APISIX makes
 * one, optionally TLS without checking the server's certificate, {@code sni} being the server name
 * sent. Blocking: it runs on the plugins' I/O threads, from a {@link LogBatcher}.
 */
final class LogSockets {

  private LogSockets() {}

  static LogBatcher.Sender tcp(
      String host,
      int port,
      int timeoutMillis,
      boolean tls,
      String sni,
      Function<List<byte[]>, byte[]> frame) {
    return batch -> {
      try (var socket = new Socket()) {
        socket.connect(new InetSocketAddress(host, port), timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        Socket out = socket;
        if (tls) {
          var ssl = (SSLSocket) TlsSockets.trustAll().createSocket(socket, host, port, true);
          if (sni != null && !sni.isEmpty()) {
            var params = ssl.getSSLParameters();
            params.setServerNames(List.of(new SNIHostName(sni)));
            ssl.setSSLParameters(params);
          }
          ssl.startHandshake();
          out = ssl;
        }
        var stream = out.getOutputStream();
        stream.write(frame.apply(batch));
        stream.flush();
        out.close();
      }
    };
  }
}
