package io.archway.dataplane.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
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

  @Test
  void theMountWithoutSlashRedirects() {
    var res = assets.answer("GET", "/ui");
    try {
      assertThat(res.status().code()).isEqualTo(301);
      assertThat(res.headers().get(HttpHeaderNames.LOCATION)).isEqualTo("/ui/");
    } finally {
      res.release();
    }
  }

  @Test
  void indexIsNotCachedAndCarriesTheSecurityHeaders() {
    var res = assets.answer("GET", "/ui/");
    try {
      assertThat(res.status().code()).isEqualTo(200);
      assertThat(body(res)).isEqualTo("<html>app</html>");
      assertThat(res.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/html");
      assertThat(res.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-cache");
      assertThat(res.headers().get("Content-Security-Policy"))
          .contains("script-src 'self'")
          .contains("frame-ancestors 'none'")
          .doesNotContain("unsafe-eval");
      assertThat(res.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
    } finally {
      res.release();
    }
  }

  @Test
  void hashedAssetsAreImmutableWithTheirType() {
    var js = assets.answer("GET", "/ui/assets/index-abc123.js");
    var css = assets.answer("GET", "/ui/assets/index-abc123.css");
    var svg = assets.answer("GET", "/ui/favicon.svg");
    try {
      assertThat(js.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/javascript");
      assertThat(js.headers().get(HttpHeaderNames.CACHE_CONTROL)).contains("immutable");
      assertThat(css.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("text/css");
      assertThat(svg.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("image/svg+xml");
      assertThat(svg.headers().get(HttpHeaderNames.CACHE_CONTROL)).isEqualTo("no-cache");
    } finally {
      js.release();
      css.release();
      svg.release();
    }
  }

  @Test
  void theAppsOwnRoutesGetIndexButMissingAssetsAre404() {
    var route = assets.answer("GET", "/ui/flows/gatekeeper");
    var missing = assets.answer("GET", "/ui/assets/gone-000.js");
    var file = assets.answer("GET", "/ui/robots.txt");
    try {
      assertThat(route.status().code()).isEqualTo(200);
      assertThat(body(route)).isEqualTo("<html>app</html>");
      assertThat(missing.status().code()).isEqualTo(404);
      assertThat(file.status().code()).isEqualTo(404);
    } finally {
      route.release();
      missing.release();
      file.release();
    }
  }

  @Test
  void headAnswersTheHeadersWithoutTheBody() {
    var res = assets.answer("HEAD", "/ui/assets/index-abc123.js");
    try {
      assertThat(res.status().code()).isEqualTo(200);
      assertThat(res.content().readableBytes()).isZero();
      assertThat(res.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(14);
    } finally {
      res.release();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
  void otherMethodsAre405(String method) {
    var res = assets.answer(method, "/ui/");
    try {
      assertThat(res.status().code()).isEqualTo(405);
      assertThat(res.headers().get(HttpHeaderNames.ALLOW)).isEqualTo("GET, HEAD");
    } finally {
      res.release();
    }
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
    var res = assets.answer("GET", path);
    try {
      assertThat(res.status().code()).isEqualTo(400);
    } finally {
      res.release();
    }
  }

  @Test
  void withoutTheStudioJarEverythingIs404() {
    var none = new StudioAssets(Map.of());
    var res = none.answer("GET", "/ui/");
    try {
      assertThat(res.status().code()).isEqualTo(404);
    } finally {
      res.release();
    }
  }

  @Test
  void theBuiltStudioIsOnTheClassPath() {
    var files = StudioAssets.read(getClass().getClassLoader());
    assertThat(files).containsKey("index.html");
    assertThat(files.keySet()).anyMatch(n -> n.startsWith("assets/") && n.endsWith(".js"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String body(FullHttpResponse res) {
    return res.content().toString(StandardCharsets.UTF_8);
  }
}
