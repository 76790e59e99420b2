package io.archway.dataplane.admin;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The PluginFlow Studio's files under {@code /ui/}: the class path directory {@code
 * archway-studio/} (the {@code archway-studio} jar), read whole into memory once, so a request is
 * answered on the event loop without touching a file. The files are the app's code only (no data),
 * so they need no key; every Admin API call the app makes sends the key the user typed.
 *
 * <p>A path is looked up in the map of files read at start, never resolved against a file system,
 * so {@code ..} cannot leave the directory; a path with a {@code ..} or {@code .} segment, a
 * backslash or a NUL is refused anyway (400). A path that is not a file and does not look like an
 * asset (no dot in its last segment) is the app's own route: it gets {@code index.html}.
 */
final class StudioAssets {

  static final String MOUNT = "/ui";
  static final String ROOT = "archway-studio/";

  /**
   * Scripts, styles, fonts and calls from the app's own origin only; no inline script or style
   * element, no eval, no frames, no plugins. (The canvas positions nodes through the CSSOM, which
   * the policy does not restrict; PNG and SVG exports are data: and blob: images.)
   */
  static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
          + " font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none';"
          + " frame-ancestors 'none'; object-src 'none'";

  private static final Map<String, String> TYPES =
      Map.ofEntries(
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("mjs", "text/javascript; charset=utf-8"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("json", "application/json"),
          Map.entry("map", "application/json"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("png", "image/png"),
          Map.entry("ico", "image/x-icon"),
          Map.entry("woff2", "font/woff2"),
          Map.entry("txt", "text/plain; charset=utf-8"));

  private static final byte[] UNAVAILABLE =
      "{\"error_msg\":\"studio not available\"}".getBytes(StandardCharsets.UTF_8);

  private final Map<String, byte[]> files;

  /** {@code false}: the files could not be read; every {@code /ui/} request gets a 503. */
  private final boolean available;

  StudioAssets(Map<String, byte[]> files) {
    this(files, true);
  }

  private StudioAssets(Map<String, byte[]> files, boolean available) {
    this.files = Map.copyOf(files);
    this.available = available;
  }

  /** The Studio on the class path, read once (empty when the jar is not there). */
  static StudioAssets bundled() {
    return Bundled.ASSETS;
  }

  private static final class Bundled {
    static final StudioAssets ASSETS = load(() -> read(StudioAssets.class.getClassLoader()));
  }

  /**
   * The Studio {@code reader} gives; when it fails, one error is logged and {@code /ui/} answers
   * 503 {@code studio not available}: the Admin API itself is served as ever.
   */
  static StudioAssets load(java.util.function.Supplier<Map<String, byte[]>> reader) {
    try {
      return new StudioAssets(reader.get());
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(StudioAssets.class)
          .error("the Studio is not served at {}/: {}", MOUNT, e.toString());
      return new StudioAssets(Map.of(), false);
    }
  }

  /** Whether {@code path} (decoded, without the query) is the Studio's. */
  static boolean owns(String path) {
    return path.equals(MOUNT) || path.startsWith(MOUNT + "/");
  }

  /** The answer to {@code method path}; keep-alive and closing are the caller's. */
  FullHttpResponse answer(String method, String path) {
    boolean head = method.equals("HEAD");
    if (!available) {
      return response(
          HttpResponseStatus.SERVICE_UNAVAILABLE,
          "application/json",
          UNAVAILABLE,
          head,
          "no-cache");
    }
    if (!head && !method.equals("GET")) {
      var res = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "405 Method Not Allowed", false);
      res.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
      return res;
    }
    if (path.equals(MOUNT)) {
      var res = text(HttpResponseStatus.MOVED_PERMANENTLY, "", head);
      res.headers().set(HttpHeaderNames.LOCATION, MOUNT + "/");
      return res;
    }
    var rel = path.substring(MOUNT.length() + 1);
    if (!safe(rel)) {
      return text(HttpResponseStatus.BAD_REQUEST, "400 Bad Request", head);
    }
    var name = rel.isEmpty() ? "index.html" : rel;
    var body = files.get(name);
    if (body == null) {
      if (looksLikeAsset(name) || !files.containsKey("index.html")) {
        return text(HttpResponseStatus.NOT_FOUND, "404 Not Found", head);
      }
      name = "index.html";
      body = files.get(name);
    }
    return response(
        HttpResponseStatus.OK,
        type(name),
        body,
        head,
        name.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  }

  /** No empty, dot or dot-dot segment, no backslash, no control character. */
  static boolean safe(String rel) {
    if (rel.isEmpty()) {
      return true;
    }
    for (int i = 0; i < rel.length(); i++) {
      char c = rel.charAt(i);
      if (c == '\\' || c < 0x20 || c == 0x7f) {
        return false;
      }
    }
    for (var segment : rel.split("/", -1)) {
      if (segment.equals("..") || segment.equals(".")) {
        return false;
      }
    }
    return !rel.startsWith("/") && !rel.contains("//");
  }

  private static boolean looksLikeAsset(String name) {
    return name.startsWith("assets/") || name.substring(name.lastIndexOf('/') + 1).contains(".");
  }

  static String type(String name) {
    var ext = name.substring(name.lastIndexOf('.') + 1);
    return TYPES.getOrDefault(ext, "application/octet-stream");
  }

  private static FullHttpResponse text(HttpResponseStatus status, String text, boolean head) {
    return response(
        status, TYPES.get("txt"), text.getBytes(StandardCharsets.UTF_8), head, "no-cache");
  }

  private static FullHttpResponse response(
      HttpResponseStatus status, String type, byte[] body, boolean head, String cache) {
    var res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            status,
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
    res.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, type)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CACHE_CONTROL, cache);
    secure(res);
    return res;
  }

  private static void secure(FullHttpResponse res) {
    res.headers()
        .set("Content-Security-Policy", CSP)
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set("X-Frame-Options", "DENY");
  }

  /** Every file under {@code archway-studio/} on {@code loader}'s class path, by relative name. */
  static Map<String, byte[]> read(ClassLoader loader) {
    var index = loader.getResource(ROOT + "index.html");
    var out = new HashMap<String, byte[]>();
    if (index == null) {
      return out;
    }
    try {
      if (index.getProtocol().equals("jar")) {
        readJar(index, out);
      } else if (index.getProtocol().equals("file")) {
        var dir = Path.of(index.toURI()).getParent();
        try (Stream<Path> walk = Files.walk(dir)) {
          for (var p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
            out.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading the Studio from " + index, e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException("reading the Studio from " + index, e);
    }
    return out;
  }

  private static void readJar(URL index, Map<String, byte[]> out) throws IOException {
    var connection = (JarURLConnection) index.openConnection();
    connection.setUseCaches(false);
    try (JarFile jar = connection.getJarFile()) {
      var entries = jar.entries();
      while (entries.hasMoreElements()) {
        var entry = entries.nextElement();
        if (!entry.isDirectory() && entry.getName().startsWith(ROOT)) {
          try (InputStream in = jar.getInputStream(entry)) {
            out.put(entry.getName().substring(ROOT.length()), in.readAllBytes());
          }
        }
      }
    }
  }
}
