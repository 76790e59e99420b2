package io.archway.dataplane.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One exchange of raw bytes on a fresh connection: what the server answered (final responses in
 * order, interim ones skipped) and whether it closed the connection. Reading stops at the end of
 * the stream, once {@code enough} responses are in, or at the deadline, whichever comes first; so a
 * server that neither answers nor closes costs the deadline, never a hang.
 */
final class Wire {

  /** One final response: its status and its whole text (head and body). */
  record Response(int status, String text) {}

  /**
   * @param responses final responses, in order
   * @param closed the server closed the connection (end of stream or reset)
   * @param unparsed bytes after the last complete response
   */
  record Result(List<Response> responses, boolean closed, String unparsed) {

    /** The first response's status, or {@code 0} when there was none. */
    int status() {
      return responses.isEmpty() ? 0 : responses.get(0).status();
    }

    List<Integer> statuses() {
      return responses.stream().map(Response::status).toList();
    }

    @Override
    public String toString() {
      return statuses() + (closed ? " closed" : " open") + (unparsed.isEmpty() ? "" : " +bytes");
    }
  }

  private Wire() {}

  static Result exchange(int port, String request, int enough, Duration deadline)
      throws IOException {
    return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1), enough, deadline);
  }

  static Result exchange(int port, byte[] request, int enough, Duration deadline)
      throws IOException {
    try (var s = new Socket("127.0.0.1", port)) {
      s.setTcpNoDelay(true);
      s.setSoTimeout(50);
      try {
        s.getOutputStream().write(request);
        s.getOutputStream().flush();
      } catch (IOException e) {
        // The server may close before it read everything; what it answered still counts.
      }
      return read(s, enough, deadline);
    }
  }

  /** Reads from an open socket whose request was already written. */
  static Result read(Socket s, int enough, Duration deadline) throws IOException {
    s.setSoTimeout(50);
    var in = s.getInputStream();
    var got = new ByteArrayOutputStream();
    var buf = new byte[16384];
    long end = System.nanoTime() + deadline.toNanos();
    boolean closed = false;
    while (System.nanoTime() < end) {
      int n;
      try {
        n = in.read(buf);
      } catch (SocketTimeoutException e) {
        continue;
      } catch (IOException e) {
        closed = true;
        break;
      }
      if (n < 0) {
        closed = true;
        break;
      }
      got.write(buf, 0, n);
      if (parse(got.toByteArray()).responses().size() >= enough) {
        break;
      }
    }
    var parsed = parse(got.toByteArray());
    return new Result(parsed.responses(), closed, parsed.unparsed());
  }

  private static Result parse(byte[] bytes) {
    var text = new String(bytes, StandardCharsets.ISO_8859_1);
    var out = new ArrayList<Response>();
    int pos = 0;
    while (true) {
      int headEnd = text.indexOf("\r\n\r\n", pos);
      if (headEnd < 0) {
        break;
      }
      var head = text.substring(pos, headEnd);
      var lines = head.split("\r\n");
      var statusLine = lines[0].split(" ", 3);
      int status;
      try {
        status = Integer.parseInt(statusLine[1]);
      } catch (RuntimeException e) {
        break;
      }
      int bodyStart = headEnd + 4;
      long length = -1;
      boolean chunked = false;
      for (int i = 1; i < lines.length; i++) {
        var l = lines[i].toLowerCase(Locale.ROOT);
        if (l.startsWith("content-length:")) {
          length = Long.parseLong(l.substring(15).strip());
        } else if (l.startsWith("transfer-encoding:") && l.contains("chunked")) {
          chunked = true;
        }
      }
      int next;
      if (status < 200 || status == 204 || status == 304) {
        next = bodyStart;
      } else if (chunked) {
        next = chunkedEnd(text, bodyStart);
        if (next < 0) {
          break;
        }
      } else if (length >= 0) {
        if (text.length() - bodyStart < length) {
          break;
        }
        next = bodyStart + (int) length;
      } else {
        // Delimited by the close: complete only when the stream ended; the caller cannot tell,
        // so such a response counts as soon as its head is in.
        next = text.length();
      }
      if (status >= 200) {
        out.add(new Response(status, text.substring(pos, next)));
      }
      pos = next;
    }
    return new Result(out, false, text.substring(pos));
  }

  private static int chunkedEnd(String text, int pos) {
    while (true) {
      int eol = text.indexOf("\r\n", pos);
      if (eol < 0) {
        return -1;
      }
      var size = text.substring(pos, eol);
      int semi = size.indexOf(';');
      long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
      pos = eol + 2;
      if (n == 0) {
        int end = text.indexOf("\r\n\r\n", pos - 2);
        return end < 0 ? -1 : end + 4;
      }
      pos += (int) n + 2;
      if (pos > text.length()) {
        return -1;
      }
    }
  }
}
