package io.archway.dataplane.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends log lines as RFC 5424 syslog messages over UDP (one datagram each) or TCP (newline framed),
 * from a thread of its own: event loops only offer to a bounded queue, and a full queue drops and
 * counts rather than waits. Lines go out in batches of up to {@code batch_max_size}, or once {@code
 * flush_limit} bytes are waiting, and at least every second. A TCP peer that is down is reconnected
 * on the next batch; what could not be sent is counted.
 */
public final class SyslogSink implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SyslogSink.class);
  // Closes a TCP connection whose write is not done in time: a blocking socket's write has no
  // timeout of its own, and a server that accepts and never reads would hold it forever.
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("archway-syslog-watchdog").unstarted(r));
  private static final int QUEUE = 10_000;
  private static final String HOST_NAME = hostName();

  /** The conf fields this sink is made from; equal confs share one sink. */
  public record Conf(String host, int port, boolean tcp, int batchMaxSize, int flushLimit) {

    /**
     * Reads a logger's {@code conf}.
     *
     * @throws IllegalArgumentException naming the field at fault
     */
    public static Conf read(JsonNode conf, String at) {
      if (conf == null || !conf.isObject()) {
        throw new IllegalArgumentException(at + ": expected an object {host, port, ...}");
      }
      var host = conf.path("host");
      if (!host.isTextual() || host.asText().isBlank()) {
        throw new IllegalArgumentException(at + ".host: expected a host name or address");
      }
      var port = conf.path("port");
      if (!port.canConvertToInt() || port.asInt() < 1 || port.asInt() > 65535) {
        throw new IllegalArgumentException(at + ".port: expected 1..65535");
      }
      var sock = conf.path("sock_type").asText("udp");
      if (!sock.equals("udp") && !sock.equals("tcp")) {
        throw new IllegalArgumentException(
            at + ".sock_type: \"" + sock + "\" (expected udp or tcp)");
      }
      int batch = conf.path("batch_max_size").asInt(1000);
      if (batch < 1) {
        throw new IllegalArgumentException(at + ".batch_max_size: expected >= 1");
      }
      int flush = conf.path("flush_limit").asInt(4096);
      if (flush < 1) {
        throw new IllegalArgumentException(at + ".flush_limit: expected >= 1");
      }
      return new Conf(host.asText(), port.asInt(), sock.equals("tcp"), batch, flush);
    }
  }

  private final Conf conf;
  private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
  private final LongAdder sent = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final Thread thread;
  private volatile boolean closed;
  private final Writer writer;
  private final WarnEvery warnings = new WarnEvery(log, 10, TimeUnit.SECONDS);

  public SyslogSink(Conf conf) {
    this.conf = conf;
    this.writer = new Writer(conf.host(), conf.port(), conf.tcp(), false, 2000);
    thread = Thread.ofPlatform().daemon().name("archway-syslog-" + conf.port()).start(this::run);
  }

  public Conf conf() {
    return conf;
  }

  public long sent() {
    return sent.sum();
  }

  public long dropped() {
    return dropped.sum();
  }

  /** Queues {@code message} (the MSG part); never blocks. */
  public void offer(String message) {
    if (closed || !queue.offer(message)) {
      dropped.increment();
    }
  }

  private void run() {
    var batch = new ArrayList<String>();
    while (!closed || !queue.isEmpty()) {
      try {
        var first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        int bytes = first.length();
        String next;
        while (batch.size() < conf.batchMaxSize()
            && bytes < conf.flushLimit()
            && (next = queue.poll()) != null) {
          batch.add(next);
          bytes += next.length();
        }
        send(batch);
        batch.clear();
      } catch (InterruptedException e) {
        // close(): the loop drains what is queued, then ends
      }
    }
    writer.close();
  }

  private void send(List<String> batch) {
    try {
      writer.send(batch);
      sent.add(batch.size());
    } catch (IOException e) {
      dropped.add(batch.size());
      warnings.warn(
          "syslog {}:{} ({}): {} line(s) not sent: {}",
          conf.host(),
          conf.port(),
          conf.tcp() ? "tcp" : "udp",
          batch.size(),
          e.toString());
    }
  }

  /**
   * Writes messages to one syslog server as RFC 5424 lines, from the caller's thread (blocking:
   * never call it on an event loop): one datagram each over UDP, newline framed over TCP
   * (optionally TLS, the server's certificate not checked, as APISIX's {@code tls: true}). A TCP
   * connection is kept and made again after a failure. Used by the stream loggers' sink thread and
   * by the {@code syslog} plugin's batches.
   */
  public static final class Writer implements AutoCloseable {
    private final String host;
    private final int port;
    private final boolean tcp;
    private final boolean tls;
    private final int timeoutMillis;
    private DatagramSocket udp;
    private Socket socket;
    private OutputStream out;
    private final java.util.concurrent.locks.ReentrantLock lock =
        new java.util.concurrent.locks.ReentrantLock();

    public Writer(String host, int port, boolean tcp, boolean tls, int timeoutMillis) {
      this.host = host;
      this.port = port;
      this.tcp = tcp;
      this.tls = tls;
      this.timeoutMillis = timeoutMillis;
    }

    /** Sends {@code messages} (MSG parts), stamped now; on failure the connection is dropped. */
    public void send(List<String> messages) throws IOException {
      // A lock, not synchronized: batchers send from virtual threads, which a monitor held across
      // blocking I/O would pin to their carrier on JDK 21.
      lock.lock();
      try {
        sendLocked(messages);
      } finally {
        lock.unlock();
      }
    }

    private void sendLocked(List<String> messages) throws IOException {
      var stamp = Instant.now().toString();
      try {
        if (tcp) {
          if (socket == null || socket.isClosed()) {
            var s = new Socket();
            s.connect(new InetSocketAddress(host, port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            if (tls) {
              var ssl =
                  (javax.net.ssl.SSLSocket)
                      io.archway.dataplane.support.TlsSockets.trustAll()
                          .createSocket(s, host, port, true);
              ssl.startHandshake();
              s = ssl;
            }
            socket = s;
            out = s.getOutputStream();
          }
          var all = new StringBuilder();
          for (var m : messages) {
            all.append(format(stamp, m)).append('\n');
          }
          var s = socket;
          var late = new java.util.concurrent.atomic.AtomicBoolean();
          var watchdog =
              WATCHDOG.schedule(
                  () -> {
                    late.set(true);
                    closeQuietly(s);
                  },
                  timeoutMillis,
                  TimeUnit.MILLISECONDS);
          try {
            out.write(all.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
          } catch (IOException e) {
            throw late.get()
                ? new java.net.SocketTimeoutException(
                    "not written within " + timeoutMillis + " ms (the server does not read)")
                : e;
          } finally {
            watchdog.cancel(false);
          }
        } else {
          if (udp == null) {
            udp = new DatagramSocket();
          }
          var to = new InetSocketAddress(host, port);
          for (var m : messages) {
            var bytes = format(stamp, m).getBytes(StandardCharsets.UTF_8);
            udp.send(new DatagramPacket(bytes, bytes.length, to));
          }
        }
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }

    @Override
    public void close() {
      lock.lock();
      try {
        closeLocked();
      } finally {
        lock.unlock();
      }
    }

    private void closeLocked() {
      if (udp != null) {
        udp.close();
        udp = null;
      }
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        socket = null;
        out = null;
      }
    }
  }

  /** {@code <14>1 TIMESTAMP HOST archway - - - MSG}: facility user, severity info. */
  static String format(String timestamp, String message) {
    return "<14>1 " + timestamp + " " + HOST_NAME + " archway - - - " + message;
  }

  private static String hostName() {
    try {
      var h = java.net.InetAddress.getLocalHost().getHostName();
      return h == null || h.isBlank() ? "-" : h;
    } catch (IOException e) {
      return "-";
    }
  }

  /** Sends what is queued, then stops. */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
