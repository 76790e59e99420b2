package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SyslogSinkTest {

  @Test
  void aTcpServerThatNeverReadsTimesTheWriteOutRatherThanHoldingItForever() throws Exception {
    try (var server = new ServerSocket()) {
      server.setReceiveBufferSize(4096);
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      var accepted = new ArrayList<Socket>();
      var acceptor =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try {
                      while (true) {
                        accepted.add(server.accept()); // and never read
                      }
                    } catch (Exception e) {
                      // closed
                    }
                  });
      var writer = new SyslogSink.Writer("127.0.0.1", server.getLocalPort(), true, false, 500);
      var line = "x".repeat(1000);
      List<String> batch = Collections.nCopies(1000, line);
      var failure = new AtomicReference<Exception>();
      var sender =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    try {
                      while (true) {
                        writer.send(batch); // 1 MB a batch, until the buffers are full
                      }
                    } catch (Exception e) {
                      failure.set(e);
                    }
                  });
      await().atMost(Duration.ofSeconds(60)).until(() -> failure.get() != null);
      assertThat(failure.get())
          .isInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("not written within 500 ms");
      sender.join(5000);
      writer.close();
      server.close();
      acceptor.join(5000);
      for (var s : accepted) {
        s.close();
      }
    }
  }
}
