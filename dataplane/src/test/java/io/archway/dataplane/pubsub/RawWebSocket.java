package io.archway.dataplane.pubsub;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain socket, for what a well-behaved client library will not do: write
 * frames without ever reading.
 */
final class RawWebSocket implements AutoCloseable {

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  private RawWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = new DataInputStream(socket.getInputStream());
  }

  static RawWebSocket open(int port, String path) throws IOException {
    var s = new Socket();
    s.setSendBufferSize(64 * 1024);
    s.setReceiveBufferSize(64 * 1024);
    s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
    s.setSoTimeout(30_000);
    var ws = new RawWebSocket(s);
    ws.out.write(
        ("GET "
                + path
                + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    var head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      head.write(ws.in.readUnsignedByte());
    }
    var text = head.toString(StandardCharsets.US_ASCII);
    if (!text.startsWith("HTTP/1.1 101")) {
      throw new IOException("no upgrade: " + text);
    }
    return ws;
  }

  /** One masked binary frame, as clients must send them. */
  void writeBinary(byte[] payload) throws IOException {
    var frame = new ByteArrayOutputStream(payload.length + 14);
    frame.write(0x82);
    if (payload.length < 126) {
      frame.write(0x80 | payload.length);
    } else if (payload.length < 65536) {
      frame.write(0x80 | 126);
      frame.write(payload.length >>> 8);
      frame.write(payload.length & 0xff);
    } else {
      frame.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        frame.write((int) ((long) payload.length >>> (8 * i)) & 0xff);
      }
    }
    var mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    frame.write(mask);
    for (int i = 0; i < payload.length; i++) {
      frame.write(payload[i] ^ mask[i & 3]);
    }
    out.write(frame.toByteArray());
  }

  /** The payload of the next binary frame (server frames are not masked nor, here, fragmented). */
  byte[] readBinary() throws IOException {
    while (true) {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      long len = b1 & 0x7f;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      var payload = new byte[(int) len];
      in.readFully(payload);
      if ((b0 & 0x0f) == 0x2) {
        return payload;
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
