package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An OpenAI-compatible chat completions server on a loopback port, since no model can run here:
 * every path ending in {@code /chat/completions} answers, after checking the request carries a
 * bearer token. The first path segment picks the behaviour: {@code /busy/...} answers 429, {@code
 * /broken/...} 500, any other answers as the model, naming itself ({@code served_by}) by that
 * segment. {@code "stream": true} gets SSE: the first event, then (once the test says it has it)
 * the rest, the last with the usage. What it was sent is kept for the test to check.
 */
final class FakeLlm implements AutoCloseable {

  static final ObjectMapper JSON = new ObjectMapper();

  /** One request as received. */
  record Received(
      String path,
      String query,
      String authorization,
      String host,
      JsonNode body,
      com.sun.net.httpserver.Headers headers) {}

  final List<Received> received = new CopyOnWriteArrayList<>();

  /** Counted down by the test when it read the first SSE event. */
  final CountDownLatch firstEventSeen = new CountDownLatch(1);

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  FakeLlm() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(threads);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** The endpoint URL of the instance named {@code name}. */
  String endpoint(String name) {
    return "http://127.0.0.1:" + port() + "/" + name + "/v1/chat/completions";
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      var body = JSON.readTree(ex.getRequestBody().readAllBytes());
      var uri = ex.getRequestURI();
      var auth = ex.getRequestHeaders().getFirst("Authorization");
      received.add(
          new Received(
              uri.getPath(),
              uri.getRawQuery(),
              auth,
              ex.getRequestHeaders().getFirst("Host"),
              body,
              ex.getRequestHeaders()));
      var name = uri.getPath().split("/")[1];
      if (!ex.getRequestMethod().equals("POST") || !uri.getPath().endsWith("/chat/completions")) {
        send(ex, 404, "{\"error\":\"not found\"}");
        return;
      }
      if (auth == null || !auth.startsWith("Bearer ")) {
        send(ex, 401, "{\"error\":{\"message\":\"missing API key\"}}");
        return;
      }
      switch (name) {
        case "busy" -> send(ex, 429, "{\"error\":{\"message\":\"rate limited\"}}");
        case "broken" -> send(ex, 500, "{\"error\":{\"message\":\"internal\"}}");
        default -> {
          if (body.path("stream").asBoolean(false)) {
            stream(ex, name);
          } else {
            answer(ex, name, body);
          }
        }
      }
    }
  }

  private void answer(HttpExchange ex, String name, JsonNode req) throws IOException {
    ObjectNode res = JSON.createObjectNode();
    res.put("id", "chatcmpl-1").put("object", "chat.completion");
    res.put("model", req.path("model").asText());
    res.put("served_by", name);
    res.putArray("choices")
        .addObject()
        .put("index", 0)
        .put("finish_reason", "stop")
        .putObject("message")
        .put("role", "assistant")
        .put("content", "Hello from " + name);
    res.putObject("usage")
        .put("prompt_tokens", 12)
        .put("completion_tokens", 3)
        .put("total_tokens", 15);
    send(ex, 200, res.toString());
  }

  private void stream(HttpExchange ex, String name) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.sendResponseHeaders(200, 0);
    var out = ex.getResponseBody();
    out.write(event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}"));
    out.flush();
    try {
      // The rest only once the client has the first event: the gateway relays, not gathers.
      if (!firstEventSeen.await(20, TimeUnit.SECONDS)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    out.write(event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \"}}]}"));
    out.write(event("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + name + "\"}}]}"));
    out.write(
        event(
            "{\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,"
                + "\"total_tokens\":9}}"));
    out.write(event("[DONE]"));
    out.flush();
  }

  private static byte[] event(String data) {
    return ("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
  }

  private static void send(HttpExchange ex, int status, String json) throws IOException {
    var bytes = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    firstEventSeen.countDown();
    server.stop(0);
    threads.shutdownNow();
  }
}
