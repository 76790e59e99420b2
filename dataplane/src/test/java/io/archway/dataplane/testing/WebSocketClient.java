package io.archway.dataplane.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client (the JDK's) that keeps what it receives: whole text messages, the close code
 * of a Close frame, an error (a connection cut without one). Its answer to a Close is the JDK's: a
 * Close with the same code.
 */
public final class WebSocketClient implements WebSocket.Listener {

  public final LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
  public final CompletableFuture<Integer> closed = new CompletableFuture<>();
  public final CompletableFuture<Throwable> error = new CompletableFuture<>();
  private final StringBuilder part = new StringBuilder();

  /** Connects to {@code uri} with {@code http}'s WebSocket builder. */
  public WebSocket open(HttpClient http, URI uri) throws Exception {
    return http.newWebSocketBuilder().buildAsync(uri, this).get(10, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
    part.append(data);
    if (last) {
      messages.add(part.toString());
      part.setLength(0);
    }
    w.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
    closed.complete(code);
    return null;
  }

  @Override
  public void onError(WebSocket w, Throwable e) {
    error.complete(e);
  }
}
