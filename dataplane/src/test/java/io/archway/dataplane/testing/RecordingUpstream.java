package io.archway.dataplane.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw TCP HTTP/1.1 server on loopback that records exactly what a proxy sends it, for smuggling
 * and differential tests. It parses with its own minimal strict parser (RFC 9112: CRLF line ends,
 * token method and header names, one Content-Length of digits, {@code chunked} as the only transfer
 * coding, never both) and records each request's method, target, headers, framing and body bytes.
 * Every request gets {@code 200} with a Content-Length and keep-alive. What it cannot parse is
 * recorded as a {@link Problem} and the connection is closed: a proxy that sends such bytes has
 * relayed something it did not frame itself.
 *
 * <p>It does not use Netty on purpose: a second, independent parser is the point.
 */
public final class RecordingUpstream implements AutoCloseable {

  /**
   * One request as received. {@code framing} is {@code length}, {@code chunked} or {@code none}.
   */
  public record Request(
      int connection,
      String method,
      String target,
      String version,
      List<String[]> headers,
      String framing,
      byte[] body) {

    /** The value of the one header {@code name} (any case), or {@code null}. */
    public String header(String name) {
      for (var h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          return h[1];
        }
      }
      return null;
    }

    public String bodyText() {
      return new String(body, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
      return method + " " + target + " [" + framing + " " + body.length + "B]";
    }
  }

  /** Bytes that did not parse, or a connection closed in the middle of a request. */
  public record Problem(int connection, String reason, String bytes) {
    @Override
    public String toString() {
      return reason + " <" + Printable.of(bytes, 80) + ">";
    }
  }

  private static final int MAX_HEAD = 256 * 1024;
  private static final long MAX_BODY = 16L * 1024 * 1024;

  private final ServerSocket server;
  private final Thread acceptor;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<Problem> problems = new CopyOnWriteArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connections = new AtomicInteger();
  // Connections in the middle of a request: from its first byte until its answer is written.
  private final AtomicInteger busy = new AtomicInteger();
  private volatile boolean closed;

  public RecordingUpstream() throws IOException {
    server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    acceptor = Thread.ofPlatform().daemon().name("recording-upstream").start(this::accept);
  }

  public int port() {
    return server.getLocalPort();
  }

  public String node() {
    return "127.0.0.1:" + port();
  }

  /** Every request received so far, in order of completion. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  public List<Problem> problems() {
    return List.copyOf(problems);
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** Connections open now. */
  public int openConnections() {
    return open.size();
  }

  /** No connection is in the middle of a request (all are between requests, or closed). */
  public boolean idle() {
    return busy.get() == 0;
  }

  /** Forgets what was recorded so far (connection numbers go on). */
  public void clear() {
    requests.clear();
    problems.clear();
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (var s : open) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  private void accept() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return;
      }
      int id = connections.incrementAndGet();
      open.add(s);
      Thread.ofVirtual().start(() -> serve(s, id));
    }
  }

  private void serve(Socket s, int id) {
    try (s) {
      var in = new Input(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (true) {
        int first = in.peek();
        if (first < 0) {
          return;
        }
        busy.incrementAndGet();
        try {
          Request r;
          try {
            r = read(in, id);
          } catch (Malformed e) {
            problems.add(new Problem(id, e.getMessage(), in.seen()));
            out.write(
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return;
          }
          requests.add(r);
          var body = ("ok " + r.method() + " " + r.target()).getBytes(StandardCharsets.UTF_8);
          boolean close = "close".equalsIgnoreCase(String.valueOf(r.header("connection")).strip());
          var head =
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                  + body.length
                  + (close ? "\r\nConnection: close" : "\r\nConnection: keep-alive")
                  + "\r\n\r\n";
          out.write(head.getBytes(StandardCharsets.ISO_8859_1));
          if (!r.method().equals("HEAD")) {
            out.write(body);
          }
          out.flush();
          in.reset();
          if (close) {
            return;
          }
        } finally {
          busy.decrementAndGet();
        }
      }
    } catch (IOException e) {
      // the peer went away
    } finally {
      open.remove(s);
    }
  }

  private static final class Malformed extends Exception {
    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  private Request read(Input in, int id) throws IOException, Malformed {
    var line = in.line();
    var parts = line.split(" ", -1);
    if (parts.length != 3) {
      throw new Malformed("request line: " + Printable.of(line, 60));
    }
    var method = parts[0];
    var target = parts[1];
    var version = parts[2];
    if (method.isEmpty() || !method.chars().allMatch(RecordingUpstream::tchar)) {
      throw new Malformed("method: " + Printable.of(method, 40));
    }
    if (target.isEmpty() || !target.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new Malformed("request target: " + Printable.of(target, 60));
    }
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      throw new Malformed("version: " + Printable.of(version, 20));
    }
    var headers = new ArrayList<String[]>();
    while (true) {
      var h = in.line();
      if (h.isEmpty()) {
        break;
      }
      int colon = h.indexOf(':');
      if (colon <= 0) {
        throw new Malformed("header line: " + Printable.of(h, 60));
      }
      var name = h.substring(0, colon);
      if (!name.chars().allMatch(RecordingUpstream::tchar)) {
        throw new Malformed("header name: " + Printable.of(name, 60));
      }
      var value = h.substring(colon + 1).strip();
      if (!value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c != 0x7f))) {
        throw new Malformed("header value: " + Printable.of(value, 60));
      }
      headers.add(new String[] {name, value});
    }
    var te = all(headers, "transfer-encoding");
    var cl = all(headers, "content-length");
    var hosts = all(headers, "host");
    if (version.equals("HTTP/1.1") && hosts.size() != 1) {
      throw new Malformed(hosts.size() + " Host headers");
    }
    if (!te.isEmpty() && !cl.isEmpty()) {
      throw new Malformed("Transfer-Encoding and Content-Length");
    }
    byte[] body;
    String framing;
    if (!te.isEmpty()) {
      if (te.size() != 1 || !te.get(0).equalsIgnoreCase("chunked")) {
        throw new Malformed("Transfer-Encoding: " + String.join(" | ", te));
      }
      framing = "chunked";
      body = chunked(in);
    } else if (!cl.isEmpty()) {
      if (cl.size() != 1 || !cl.get(0).matches("[0-9]{1,15}")) {
        throw new Malformed("Content-Length: " + String.join(" | ", cl));
      }
      long n = Long.parseLong(cl.get(0));
      if (n > MAX_BODY) {
        throw new Malformed("Content-Length too large: " + n);
      }
      framing = "length";
      body = in.bytes((int) n);
    } else {
      framing = "none";
      body = new byte[0];
    }
    return new Request(id, method, target, version, List.copyOf(headers), framing, body);
  }

  private static byte[] chunked(Input in) throws IOException, Malformed {
    var body = new ByteArrayOutputStream();
    while (true) {
      var line = in.line();
      int semi = line.indexOf(';');
      var size = semi < 0 ? line : line.substring(0, semi);
      if (!size.matches("[0-9A-Fa-f]{1,8}")) {
        throw new Malformed("chunk size: " + Printable.of(line, 40));
      }
      long n = Long.parseLong(size, 16);
      if (body.size() + n > MAX_BODY) {
        throw new Malformed("chunked body too large");
      }
      if (n == 0) {
        while (!in.line().isEmpty()) {
          // trailer fields: not recorded
        }
        return body.toByteArray();
      }
      body.write(in.bytes((int) n));
      if (!in.line().isEmpty()) {
        throw new Malformed("no CRLF after chunk data");
      }
    }
  }

  private static List<String> all(List<String[]> headers, String name) {
    var out = new ArrayList<String>();
    for (var h : headers) {
      if (h[0].equalsIgnoreCase(name)) {
        out.add(h[1]);
      }
    }
    return out;
  }

  static boolean tchar(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  /** Buffered input that remembers the bytes of the request being read (for problem reports). */
  private static final class Input {
    private final InputStream in;
    private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
    private final byte[] buf = new byte[8192];
    private int pos;
    private int end;

    Input(InputStream in) {
      this.in = in;
    }

    int peek() throws IOException {
      if (pos == end && !fill()) {
        return -1;
      }
      return buf[pos] & 0xff;
    }

    private boolean fill() throws IOException {
      int n = in.read(buf);
      if (n <= 0) {
        return false;
      }
      pos = 0;
      end = n;
      return true;
    }

    int next() throws IOException, Malformed {
      if (pos == end && !fill()) {
        throw new Malformed("connection closed in the middle of a request");
      }
      int c = buf[pos++] & 0xff;
      if (seen.size() < MAX_HEAD) {
        seen.write(c);
      }
      return c;
    }

    /** A line ended by CRLF; a bare CR or LF is malformed. */
    String line() throws IOException, Malformed {
      var sb = new StringBuilder();
      while (true) {
        int c = next();
        if (c == '\r') {
          if (next() != '\n') {
            throw new Malformed("bare CR");
          }
          return sb.toString();
        }
        if (c == '\n') {
          throw new Malformed("bare LF");
        }
        if (sb.length() >= MAX_HEAD) {
          throw new Malformed("line too long");
        }
        sb.append((char) c);
      }
    }

    byte[] bytes(int n) throws IOException, Malformed {
      var out = new byte[n];
      for (int i = 0; i < n; i++) {
        out[i] = (byte) next();
      }
      return out;
    }

    String seen() {
      return seen.toString(StandardCharsets.ISO_8859_1);
    }

    void reset() {
      seen.reset();
    }
  }

  /** Bytes as a short printable string: control characters escaped, long ones cut. */
  public static final class Printable {
    private Printable() {}

    public static String of(String s, int max) {
      var sb = new StringBuilder();
      for (int i = 0; i < s.length() && sb.length() < max; i++) {
        char c = s.charAt(i);
        switch (c) {
          case '\r' -> sb.append("\\r");
          case '\n' -> sb.append("\\n");
          case '\t' -> sb.append("\\t");
          default -> {
            if (c < 0x20 || c >= 0x7f) {
              sb.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else {
              sb.append(c);
            }
          }
        }
      }
      if (sb.length() >= max) {
        sb.append("...(").append(s.length()).append(" chars)");
      }
      return sb.toString();
    }
  }
}
