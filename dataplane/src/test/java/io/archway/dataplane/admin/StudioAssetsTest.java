package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StudioAssetsTest {

  private final StudioAssets assets =
      new StudioAssets(
          Map.of(
              "index.html", bytes("<html>app</html>"),
              "assets/index-abc123.js", bytes("console.log(1)"),
              "assets/index-abc123.css", bytes("body{}"),
              "favicon.svg", bytes("<svg/>")));

  /** An answer read and released. */
  private record Answer(int status, HttpHeaders headers, String body) {
    String header(CharSequence name) {
      return headers.get(name);
    }
  }

  private static Answer answer(StudioAssets assets, String method, String path) {
    var res = assets.answer(method, path);
    try {
      return new Answer(
          res.status().code(),
          res.headers().copy(),
          res.content().toString(StandardCharsets.UTF_8));
    } finally {
      res.release();
    }
  }

  private Answer get(String path) {
    return answer(assets, "GET", path);
  }

  @Test
  void theMountWithoutSlashRedirects() {
    var res = get("/ui");
    assertThat(res.status()).isEqualTo(301);
    assertThat(res.header(HttpHeaderNames.LOCATION)).isEqualTo("/ui/");
  }

  @Test
  void indexIsNotCachedAndCarriesTheSecurityHeaders() {
    var res = get("/ui/");
    assertThat(res.status()).isEqualTo(200);
    assertThat(res.body()).isEqualTo("<html>app</html>");
    assertThat(res.header(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/html");
    assertThat(res.header(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-cache");
    assertThat(res.header("Content-Security-Policy"))
        .contains("default-src 'none'")
        .contains("script-src 'self'")
        .contains("frame-ancestors 'none'")
        .doesNotContain("unsafe-eval");
    assertThat(res.header("X-Content-Type-Options")).isEqualTo("nosniff");
  }

  @Test
  void hashedAssetsAreImmutableWithTheirType() {
    var js = get("/ui/assets/index-abc123.js");
    assertThat(js.header(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/javascript");
    assertThat(js.header(HttpHeaderNames.CACHE_CONTROL)).contains("immutable");
    assertThat(get("/ui/assets/index-abc123.css").header(HttpHeaderNames.CONTENT_TYPE))
        .startsWith("text/css");
    var svg = get("/ui/favicon.svg");
    assertThat(svg.header(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("image/svg+xml");
    assertThat(svg.header(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-cache");
  }

  @Test
  void theAppsOwnRoutesGetIndexButMissingAssetsAre404() {
    var route = get("/ui/flows/gatekeeper");
    assertThat(route.status()).isEqualTo(200);
    assertThat(route.body()).isEqualTo("<html>app</html>");
    assertThat(get("/ui/assets/gone-000.js").status()).isEqualTo(404);
    assertThat(get("/ui/robots.txt").status()).isEqualTo(404);
  }

  @Test
  void headAnswersTheHeadersWithoutTheBody() {
    var res = answer(assets, "HEAD", "/ui/assets/index-abc123.js");
    assertThat(res.status()).isEqualTo(200);
    assertThat(res.body()).isEmpty();
    assertThat(res.header(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("14");
  }

  @ParameterizedTest
  @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
  void otherMethodsAre405(String method) {
    var res = answer(assets, method, "/ui/");
    assertThat(res.status()).isEqualTo(405);
    assertThat(res.header(HttpHeaderNames.ALLOW)).isEqualTo("GET, HEAD");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/ui/../apisix/admin/routes",
        "/ui/assets/../../etc/passwd",
        "/ui/./index.html",
        "/ui/assets\\..\\x",
        "/ui//etc/passwd",
        "/ui/a\u0000b"
      })
  void traversalIsRefused(String path) {
    assertThat(get(path).status()).isEqualTo(400);
  }

  @Test
  void withoutTheStudioJarEverythingIs404() {
    assertThat(answer(new StudioAssets(Map.of()), "GET", "/ui/").status()).isEqualTo(404);
  }

  @Test
  void theBuiltStudioIsOnTheClassPath() {
    var files = StudioAssets.read(getClass().getClassLoader());
    assertThat(files).containsKey("index.html");
    assertThat(files.keySet()).anyMatch(n -> n.startsWith("assets/") && n.endsWith(".js"));
  }

  @Test
  void theStudioIsReadFromAJar(@TempDir Path dir) throws Exception {
    var jar = dir.resolve("archway-studio.jar");
    try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
      for (var name :
          List.of("archway-studio/index.html", "archway-studio/assets/a-1.js", "other/x.txt")) {
        out.putNextEntry(new JarEntry(name));
        out.write(bytes(name));
        out.closeEntry();
      }
    }
    try (var loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      var files = StudioAssets.read(loader);
      assertThat(files.keySet()).containsExactlyInAnyOrder("index.html", "assets/a-1.js");
      assertThat(new String(files.get("assets/a-1.js"), StandardCharsets.UTF_8))
          .isEqualTo("archway-studio/assets/a-1.js");
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void filesThatCannotBeReadGiveA503AtUiOnly() {
    var broken =
        StudioAssets.load(
            () -> {
              throw new java.io.UncheckedIOException(
                  "reading the Studio", new java.io.IOException("disk gone"));
            });
    for (var path : List.of("/ui/", "/ui", "/ui/assets/index-abc123.js")) {
      var a = answer(broken, "GET", path);
      assertThat(a.status()).as(path).isEqualTo(503);
      assertThat(a.header(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
      assertThat(a.body()).isEqualTo("{\"error_msg\":\"studio not available\"}");
    }
    // A reader that works is served as ever.
    assertThat(
            answer(StudioAssets.load(() -> Map.of("index.html", bytes("x"))), "GET", "/ui/")
                .status())
        .isEqualTo(200);
  }
}
