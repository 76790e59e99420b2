package io.archway.dataplane.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A plain socket to the gateway, for what an HTTP client library will not send. */
final class Raw implements AutoCloseable {

  final Socket socket;
  final InputStream in;
  final OutputStream out;

  Raw(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(15_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  Raw send(String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  /** One response: head, then a body of Content-Length bytes. */
  String response() throws IOException {
    var head = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      head.write(c);
      var s = head.toString(StandardCharsets.ISO_8859_1);
      if (s.endsWith("\r\n\r\n")) {
        break;
      }
    }
    var h = head.toString(StandardCharsets.ISO_8859_1);
    if (h.isEmpty()) {
      return "";
    }
    int len = 0;
    for (var line : h.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        len = Integer.parseInt(line.substring(15).strip());
      }
    }
    var body = in.readNBytes(len);
    return h + new String(body, StandardCharsets.ISO_8859_1);
  }

  /** Whether the gateway closed the connection (reads to the end). */
  boolean closed() throws IOException {
    try {
      return in.read() < 0;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
