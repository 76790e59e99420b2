package io.archway.e2e.chaos;

import static io.archway.e2e.chaos.Outages.logged;
import static io.archway.e2e.chaos.Outages.metric;
import static io.archway.e2e.chaos.Outages.queued;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.e2e.Backends.HttpEcho;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos scenario 7, dependency outages (docs/chaos.md): the loggers' sinks fail under load, all at
 * once, each on a route of its own with a load of its own: {@code file-logger} to a full disk
 * ({@code /dev/full}, where every write fails with ENOSPC), {@code syslog} over TCP to a server
 * that accepts and never reads, {@code http-logger} to a server that answers after a minute. A
 * fourth route logs with {@code file-logger} to a healthy file. No request may fail; each logger's
 * queue stays within its bound, what cannot be sent is dropped and counted, the full disk is warned
 * about at most every 10 s rather than per request, and the healthy logger loses nothing (a sink
 * that hangs holds its own logger only).
 */
class LogSinksChaosE2E {

  @TempDir Path dir;

  HttpEcho backend;
  ServerSocket syslog;
  final ConcurrentLinkedQueue<Socket> unread = new ConcurrentLinkedQueue<>();
  HttpServer collector;
  EtcdDataplane stack;

  @BeforeEach
  void start() throws Exception {
    backend = new HttpEcho("a");
    // A syslog server that takes connections and never reads from them.
    syslog = new ServerSocket();
    syslog.setReceiveBufferSize(4096);
    syslog.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              while (!syslog.isClosed()) {
                try {
                  unread.add(syslog.accept());
                } catch (IOException e) {
                  return;
                }
              }
            });
    // An HTTP log collector that answers after a minute.
    collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    collector.createContext(
        "/",
        ex -> {
          try {
            Thread.sleep(Duration.ofSeconds(60));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    collector.start();
    stack = EtcdDataplane.start(dir);
  }

  @AfterEach
  void stop() throws IOException {
    if (stack != null) {
      stack.close();
    }
    collector.stop(0);
    syslog.close();
    for (var s : unread) {
      s.close();
    }
    backend.close();
  }

  private String route(String uri, String plugin, String conf) {
    return "{\"uri\":\""
        + uri
        + "\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:"
        + backend.port()
        + "\":1}},\"plugins\":{\""
        + plugin
        + "\":"
        + conf
        + "}}";
  }

  @Test
  void aFullDiskASyslogServerThatNeverReadsAndASlowCollectorFailNoRequest() throws Exception {
    var healthy = dir.resolve("healthy.log");
    stack.put("routes/disk", route("/disk/*", "file-logger", "{\"path\":\"/dev/full\"}"));
    stack.put(
        "routes/syslog",
        route(
            "/syslog/*",
            "syslog",
            "{\"host\":\"127.0.0.1\",\"port\":"
                + syslog.getLocalPort()
                + ",\"sock_type\":\"tcp\",\"timeout\":1000,\"batch_max_size\":20,"
                + "\"inactive_timeout\":1}"));
    stack.put(
        "routes/http",
        route(
            "/http/*",
            "http-logger",
            "{\"uri\":\"http://127.0.0.1:"
                + collector.getAddress().getPort()
                + "/logs\",\"timeout\":2,\"batch_max_size\":20,\"inactive_timeout\":1}"));
    stack.put(
        "routes/healthy",
        route("/healthy/*", "file-logger", "{\"path\":\"" + healthy.toString() + "\"}"));
    for (var path : List.of("/disk/x", "/syslog/x", "/http/x", "/healthy/x")) {
      await()
          .atMost(EtcdDataplane.WAIT)
          .ignoreExceptions()
          .until(() -> stack.get(path).statusCode() == 200);
    }
    // Written off the event loop: the file is there once the first entry is.
    await().atMost(EtcdDataplane.WAIT).until(() -> Files.exists(healthy));
    long healthyBefore = Files.readAllLines(healthy).size();

    long seconds = EtcdDataplane.seconds();
    long rssBefore = Outages.rssKiB(stack.pid());
    var disk = Outages.load(stack, "/disk/x", 4).start();
    // Long paths make entries of several KiB: the kernel's buffers between the dataplane and the
    // server that never reads (a few MiB) are full within the fault, and the writes then block.
    var slowSyslog = Outages.load(stack, "/syslog/" + "x".repeat(3000), 4).start();
    var slowHttp = Outages.load(stack, "/http/x", 4).start();
    var good = Outages.load(stack, "/healthy/x", 2).start();
    Load.Result diskResult;
    Load.Result syslogResult;
    Load.Result httpResult;
    Load.Result goodResult;
    long[] maxQueued;
    try {
      maxQueued =
          Outages.maxDuring(
              stack, seconds, queued("syslog"), queued("http-logger"), queued("file-logger"));
    } finally {
      diskResult = disk.stop();
      syslogResult = slowSyslog.stop();
      httpResult = slowHttp.stop();
      goodResult = good.stop();
    }
    long rssAfter = Outages.rssKiB(stack.pid());
    ChaosReport.add("file-logger: disk full (/dev/full)", seconds, diskResult, null);
    ChaosReport.add("syslog: a TCP server that never reads", seconds, syslogResult, null);
    ChaosReport.add("http-logger: a collector that answers after 60 s", seconds, httpResult, null);
    ChaosReport.add("file-logger: healthy, beside the three above", seconds, goodResult, null);

    var log = Files.readAllLines(dir.resolve("dataplane.log"));
    long diskWarnings =
        log.stream().filter(l -> l.contains("file-logger: ") && l.contains("dropped")).count();
    System.out.printf(
        "log sinks: disk %s; syslog %s; http %s; healthy %s; queued at most syslog %d,"
            + " http-logger %d, file-logger %d; file-logger %d dropped, %d warnings;"
            + " syslog %d sent, %d dropped; http-logger %d dropped;"
            + " dataplane RSS %d KiB before, %d KiB after%n",
        diskResult,
        syslogResult,
        httpResult,
        goodResult,
        maxQueued[0],
        maxQueued[1],
        maxQueued[2],
        metric(stack, logged("file-logger", "dropped")),
        diskWarnings,
        metric(stack, logged("syslog", "sent")),
        metric(stack, logged("syslog", "dropped")),
        metric(stack, logged("http-logger", "dropped")),
        rssBefore,
        rssAfter);

    for (var r : List.of(diskResult, syslogResult, httpResult, goodResult)) {
      assertThat(r.failed()).as("failed requests: %s", r).isZero();
    }
    // Every entry of the healthy route is written: the three sinks that hang or fail hold their
    // own logger only.
    await()
        .atMost(EtcdDataplane.WAIT)
        .until(() -> Files.readAllLines(healthy).size() - healthyBefore >= goodResult.requests());
    // The full disk: every entry dropped and counted, warned about at most every 10 s (one
    // warning at the start, then one per 10 s of fault, and one that may fall in between).
    assertThat(metric(stack, logged("file-logger", "dropped")))
        .as("file-logger entries dropped")
        .isGreaterThanOrEqualTo(diskResult.requests() - 2 * 4);
    assertThat(diskWarnings).isPositive().isLessThanOrEqualTo(seconds / 10 + 2);
    // The collector that answers late: its batches time out (2 s), dropped and counted.
    assertThat(metric(stack, logged("http-logger", "dropped"))).isPositive();
    // The syslog server that never reads: once the buffers are full, each write times out (1 s),
    // its batch is dropped and counted, and the next batch goes on a new connection.
    assertThat(metric(stack, logged("syslog", "dropped"))).isPositive();
    // Every queue within its bound (10,000 entries).
    for (long q : maxQueued) {
      assertThat(q).isLessThanOrEqualTo(10_000);
    }
  }
}
