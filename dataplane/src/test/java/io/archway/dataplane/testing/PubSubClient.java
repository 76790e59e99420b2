package io.archway.dataplane.testing;

import com.google.protobuf.ByteString;
import io.archway.dataplane.pubsub.proto.CmdKafkaFetch;
import io.archway.dataplane.pubsub.proto.CmdKafkaListOffset;
import io.archway.dataplane.pubsub.proto.CmdPing;
import io.archway.dataplane.pubsub.proto.PubSubReq;
import io.archway.dataplane.pubsub.proto.PubSubResp;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pub-sub client as APISIX's are: a real WebSocket client (the JDK's) sending {@code PubSubReq}
 * in binary frames and reading {@code PubSubResp} back.
 */
public final class PubSubClient implements AutoCloseable {

  private final WebSocket ws;
  private final LinkedBlockingQueue<PubSubResp> received;
  private final CompletableFuture<Integer> closed;
  private final AtomicLong sequence = new AtomicLong();

  private PubSubClient(
      WebSocket ws, LinkedBlockingQueue<PubSubResp> received, CompletableFuture<Integer> closed) {
    this.ws = ws;
    this.received = received;
    this.closed = closed;
  }

  /**
   * A standalone config (without its {@code #END}) with one pub-sub route, {@code /kafka}, to
   * {@code brokers} (a {@code host:port}), running {@code plugins} (YAML; {@code {}} for none).
   */
  public static String routes(String brokers, String plugins) {
    return """
        routes:
          - id: kafka
            uri: /kafka
            upstream:
              type: none
              scheme: kafka
              nodes:
                "%s": 1
            plugins:
        %s
        """
        .formatted(brokers, plugins.indent(6).stripTrailing());
  }

  /**
   * Opens a session at {@code url} ({@code ws://...}) with {@code headers} as name, value, ...;
   * throws {@code java.net.http.WebSocketHandshakeException} (in an ExecutionException) when the
   * gateway answers something else than 101.
   */
  public static PubSubClient connect(String url, String... headers) throws Exception {
    var received = new LinkedBlockingQueue<PubSubResp>();
    var closed = new CompletableFuture<Integer>();
    var b = HttpClient.newHttpClient().newWebSocketBuilder();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    var ws =
        b.buildAsync(
                URI.create(url),
                new WebSocket.Listener() {
                  final ByteArrayOutputStream partial = new ByteArrayOutputStream();

                  @Override
                  public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                    var bytes = new byte[data.remaining()];
                    data.get(bytes);
                    partial.writeBytes(bytes);
                    if (last) {
                      try {
                        received.add(PubSubResp.parseFrom(partial.toByteArray()));
                      } catch (Exception e) {
                        closed.completeExceptionally(e);
                      }
                      partial.reset();
                    }
                    ws.request(1);
                    return null;
                  }

                  @Override
                  public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
                    closed.complete(status);
                    return null;
                  }

                  @Override
                  public void onError(WebSocket ws, Throwable error) {
                    closed.completeExceptionally(error);
                  }
                })
            .get(20, TimeUnit.SECONDS);
    return new PubSubClient(ws, received, closed);
  }

  /** Sends {@code req} with the next sequence number and waits for its answer. */
  public PubSubResp call(PubSubReq.Builder req) throws Exception {
    long seq = sequence.incrementAndGet();
    send(req.setSequence(seq).build().toByteArray());
    var resp = next();
    if (resp.getSequence() != seq) {
      throw new AssertionError("answer to " + resp.getSequence() + ", expected " + seq);
    }
    return resp;
  }

  public PubSubResp ping(String state) throws Exception {
    return call(
        PubSubReq.newBuilder()
            .setCmdPing(CmdPing.newBuilder().setState(ByteString.copyFromUtf8(state))));
  }

  public PubSubResp listOffset(String topic, int partition, long timestamp) throws Exception {
    return call(
        PubSubReq.newBuilder()
            .setCmdKafkaListOffset(
                CmdKafkaListOffset.newBuilder()
                    .setTopic(topic)
                    .setPartition(partition)
                    .setTimestamp(timestamp)));
  }

  public PubSubResp fetch(String topic, int partition, long offset) throws Exception {
    return call(
        PubSubReq.newBuilder()
            .setCmdKafkaFetch(
                CmdKafkaFetch.newBuilder()
                    .setTopic(topic)
                    .setPartition(partition)
                    .setOffset(offset)));
  }

  /** A binary frame with these bytes. */
  public void send(byte[] frame) throws Exception {
    ws.sendBinary(ByteBuffer.wrap(frame), true).get(10, TimeUnit.SECONDS);
  }

  public void sendText(String text) throws Exception {
    ws.sendText(text, true).get(10, TimeUnit.SECONDS);
  }

  /** The next answer, whatever its sequence. */
  public PubSubResp next() throws Exception {
    var resp = received.poll(30, TimeUnit.SECONDS);
    if (resp == null) {
      throw new AssertionError("no answer in 30 s (closed: " + closed.getNow(null) + ")");
    }
    return resp;
  }

  /** The status of the close frame the gateway sent. */
  public int closeStatus() throws Exception {
    return closed.get(30, TimeUnit.SECONDS);
  }

  public boolean isOpen() {
    return !ws.isInputClosed() && !closed.isDone();
  }

  @Override
  public void close() {
    ws.abort();
  }
}
