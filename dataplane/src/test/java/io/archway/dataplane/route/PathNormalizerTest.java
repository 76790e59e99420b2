package io.archway.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.route.PathNormalizer.EscapedSlashes;
import io.archway.dataplane.route.PathNormalizer.Policy;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PathNormalizerTest {

  private static final Policy DEFAULT = Policy.DEFAULT;

  private static RequestVars vars(String method, String target, Policy policy) {
    var headers = new DefaultHttpHeaders().set("Host", "gw.example");
    return new RequestVars(
        method,
        target,
        headers,
        Peer.of(new InetSocketAddress("10.0.0.1", 40000), 9080, "http"),
        policy);
  }

  private static RequestVars vars(String target) {
    return vars("GET", target, DEFAULT);
  }

  /** The path routes match. */
  private static String path(String target) {
    return vars(target).path();
  }

  /** The request target the upstream receives. */
  private static String upstream(RequestVars v, String target) {
    // As the decoder makes it: the request line is not checked again.
    var req =
        new DefaultHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.GET, target, new DefaultHttpHeaders(), false);
    v.applyTarget(req);
    return req.uri();
  }

  private static String upstream(String target) {
    return upstream(vars(target), target);
  }

  private static String upstream(String target, Policy policy) {
    return upstream(vars("GET", target, policy), target);
  }

  private static void bad(String target) {
    bad(target, DEFAULT);
  }

  private static void bad(String target, Policy policy) {
    assertThatThrownBy(() -> vars("GET", target, policy))
        .as(target)
        .isInstanceOf(PathNormalizer.BadTarget.class);
  }

  @Test
  void aNormalPathIsTheSameStringAllTheWay() {
    var raw = "/api/v1/users-1_2~x.json";
    var v = vars(raw);
    assertThat(v.path()).isSameAs(raw);
    var req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, raw);
    v.applyTarget(req);
    assertThat(req.uri()).isSameAs(raw);
    assertThat(PathNormalizer.isNormal(raw, 0, raw.length())).isTrue();
    var withQuery = "/a/b?x=1&y=%2e%2e/../";
    assertThat(upstream(withQuery)).isSameAs(withQuery);
    assertThat(vars(withQuery).get("args")).isEqualTo("x=1&y=%2e%2e/../");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/public/../admin/secret",
        "/public/%2e%2e/admin/secret",
        "/public/..%2fadmin/secret",
        "/public/.%2e/admin/secret",
        "/public/x/../../admin/secret",
        "/public/%2E%2E%2Fadmin/secret",
        "/public/%2E%2E/admin/secret",
        "/public/%2e./admin/secret",
        "/public/./../admin/./secret",
        "/public//..//admin//secret",
        "//public/../admin/secret",
        "/public/..%2Fadmin%2fsecret",
        "/%61dmin/secret",
        "/admin/%73ecret",
        "/%2fadmin/secret",
        "/admin/./secret",
        "/admin//secret",
        "/admin/x/%2e%2e/secret",
      })
  void everyBypassMeansAdminSecret(String target) {
    var v = vars(target);
    // routing, plugins' uri and the upstream agree
    assertThat(v.path()).isEqualTo("/admin/secret");
    assertThat(v.get("uri")).isEqualTo("/admin/secret");
    assertThat(upstream(target)).isEqualTo("/admin/secret");
    assertThat(upstream(target + "?a=%2e%2e")).isEqualTo("/admin/secret?a=%2e%2e");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/public/%00/x",
        "/public/a%00",
        "/public/\u0000/x",
        "/public/\u0001",
        "/public/\u007f",
        "/public/%01",
        "/public/%1f",
        "/public/%1F",
        "/public/%7f",
        "/public/%7F",
        "/public/\t",
        "/public/\r",
        "/public/\n",
        "/public/%0a",
        "/public/%0D%0Ax:y",
        "/..",
        "/../",
        "/../admin",
        "/a/../..",
        "/a/../../b",
        "/%2e%2e",
        "/a/%2E%2E/%2e%2e/admin",
        "/a/..%2f..%2fadmin",
        "/.%2e/x",
        "/public/%zz",
        "/public/%4",
        "/public/%",
        "/public/%%41",
        "/public/%g0",
        "/public/%0g",
        "/public/a#frag",
        "/public/a?x#frag",
        "/public/a%23ok#no",
        "/public/%FF",
        "/public/%C0%AE%C0%AE/admin",
        "/public/%C3",
        "/public/%E2%82",
        "/public/%ED%A0%80",
        "",
        "a/b",
        "*",
        "ftp://host/a",
        "http://user@host/a",
        "http:///a",
        "http://ho st/a",
        "://host/a",
        "/public/\u0100",
        "/public/..;/admin/secret",
        "/public/..;x=1/admin/secret",
        "/public/.;/admin",
        "/public/%2e%2e;/admin/secret",
      })
  void theseAre400(String target) {
    bad(target);
  }

  @Test
  void rfc3986Section54ExamplesAgainstBaseBCD() {
    // RFC 3986 §5.4: references resolved against http://a/b/c/d;p?q; here the merged path.
    String[][] cases = {
      {"/b/c/g", "/b/c/g"},
      {"/b/c/./g", "/b/c/g"},
      {"/b/c/g/", "/b/c/g/"},
      {"/g", "/g"},
      {"/b/c/;x", "/b/c/;x"},
      {"/b/c/g;x", "/b/c/g;x"},
      {"/b/c/.", "/b/c/"},
      {"/b/c/./", "/b/c/"},
      {"/b/c/..", "/b/"},
      {"/b/c/../", "/b/"},
      {"/b/c/../g", "/b/g"},
      {"/b/c/../..", "/"},
      {"/b/c/../../", "/"},
      {"/b/c/../../g", "/g"},
      // §5.4.2, abnormal examples
      {"/./g", "/g"},
      {"/b/c/g.", "/b/c/g."},
      {"/b/c/.g", "/b/c/.g"},
      {"/b/c/g..", "/b/c/g.."},
      {"/b/c/..g", "/b/c/..g"},
      {"/b/c/./../g", "/b/g"},
      {"/b/c/./g/.", "/b/c/g/"},
      {"/b/c/g/./h", "/b/c/g/h"},
      {"/b/c/g/../h", "/b/c/h"},
      {"/b/c/g;x=1/./y", "/b/c/g;x=1/y"},
      {"/b/c/g;x=1/../y", "/b/c/y"},
      // §5.2.4's own examples
      {"/a/b/c/./../../g", "/a/g"},
      {"/mid/content=5/../6", "/mid/6"},
    };
    for (var c : cases) {
      assertThat(path(c[0])).as(c[0]).isEqualTo(c[1]);
      assertThat(upstream(c[0])).as(c[0]).isEqualTo(c[1]);
    }
    // where RFC 3986 stops at the root ("../../../g" gives "/g"), a climb is refused
    bad("/b/c/../../../g");
    bad("/b/c/../../../../g");
    bad("/../g");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        // target | routed (decoded) | upstream (encoded)
        "/a%7eb | /a~b | /a~b",
        "/%41%42%43%61%62%63%30%39%2D%2E%5F%7E | /ABCabc09-._~ | /ABCabc09-._~",
        "/a%3fb | /a?b | /a%3Fb",
        "/a%3Fb?c=d | /a?b | /a%3Fb?c=d",
        "/a%23b | /a#b | /a%23b",
        "/a%20b | /a b | /a%20b",
        "/a%2bb+c | /a+b+c | /a%2Bb+c",
        "/a%25b | /a%b | /a%25b",
        "/a%252e%252e | /a%2e%2e | /a%252e%252e",
        "/caf%c3%a9 | /café | /caf%C3%A9",
        "/%e2%82%ac | /€ | /%E2%82%AC",
        "/a%21%24%26%27%28%29%2a%2c%3b%3d%3a%40 | /a!$&'()*,;=:@ | "
            + "/a%21%24%26%27%28%29%2A%2C%3B%3D%3A%40",
        "/a/b/ | /a/b/ | /a/b/",
        "/a//b/ | /a/b/ | /a/b/",
        "/// | / | /",
        "/a/. | /a/ | /a/",
        "/a/.. | / | /",
        "/a/b/%2e%2e | /a/ | /a/",
        "/. | / | /",
        "/./ | / | /",
        "/.hidden/..file | /.hidden/..file | /.hidden/..file",
        "/a/...| /a/... | /a/...",
        "/a/.../b | /a/.../b | /a/.../b",
        "/a/b..;/c | /a/b..;/c | /a/b..;/c",
        "/a/;/b | /a/;/b | /a/;/b",
        "/a/.%3b/b | /a/.;/b | /a/.%3B/b",
      })
  void escapesAreDecodedOrCanonicalized(String target, String routed, String forwarded) {
    assertThat(path(target)).isEqualTo(routed);
    assertThat(upstream(target)).isEqualTo(forwarded);
  }

  @Test
  void rawBytesThatCannotGoInARequestLineAreEscapedForTheUpstream() {
    // Netty hands the request line over as one char per byte.
    var utf8 = new String("/café".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    assertThat(path(utf8)).isEqualTo("/café");
    assertThat(upstream(utf8)).isEqualTo("/caf%C3%A9");
    assertThat(path("/a b/./c")).isEqualTo("/a b/c");
    assertThat(upstream("/a b/./c")).isEqualTo("/a%20b/c");
    bad(new String(new byte[] {'/', (byte) 0xE9}, StandardCharsets.ISO_8859_1));
  }

  @Test
  void escapedSlashPolicies() {
    var decode = new Policy(true, EscapedSlashes.DECODE);
    var reject = new Policy(true, EscapedSlashes.REJECT);
    var keep = new Policy(true, EscapedSlashes.KEEP);
    assertThat(vars("GET", "/a%2fb", decode).path()).isEqualTo("/a/b");
    assertThat(upstream("/a%2fb", decode)).isEqualTo("/a/b");
    bad("/a%2fb", reject);
    bad("/a%2Fb", reject);
    assertThat(vars("GET", "/a/b%2e", reject).path()).isEqualTo("/a/b.");
    // keep: %2F is text inside a segment, never a separator, so ".." next to it is no dot segment
    assertThat(vars("GET", "/a%2fb", keep).path()).isEqualTo("/a%2Fb");
    assertThat(upstream("/a%2fb", keep)).isEqualTo("/a%2Fb");
    assertThat(vars("GET", "/public/..%2fadmin/secret", keep).path())
        .isEqualTo("/public/..%2Fadmin/secret");
    assertThat(upstream("/public/..%2fadmin/secret", keep)).isEqualTo("/public/..%2Fadmin/secret");
    // keep: %25 stays too, or "%2F" in the routed path would have two meanings
    assertThat(vars("GET", "/a%252Fb", keep).path()).isEqualTo("/a%252Fb");
    assertThat(vars("GET", "/a%25b", keep).path()).isEqualTo("/a%25b");
    assertThat(vars("GET", "/a/../b%2fc", keep).path()).isEqualTo("/b%2Fc");
    bad("/a/%2e%2e/..", keep);
    bad("/%2e%2e/x", keep);
  }

  @Test
  void mergeSlashesCanBeTurnedOff() {
    var off = new Policy(false, EscapedSlashes.DECODE);
    assertThat(vars("GET", "/a//b", off).path()).isEqualTo("/a//b");
    assertThat(upstream("/a//b", off)).isEqualTo("/a//b");
    assertThat(vars("GET", "//a", off).path()).isEqualTo("//a");
    // RFC 3986 §5.2.4 on the empty segment: "/a//.." is "/a/"
    assertThat(vars("GET", "/a//..", off).path()).isEqualTo("/a/");
    assertThat(vars("GET", "//..", off).path()).isEqualTo("/");
    assertThat(vars("GET", "/a%2f%2fb", off).path()).isEqualTo("/a//b");
    assertThat(vars("GET", "/a/./b", off).path()).isEqualTo("/a/b");
    bad("/a/../..", off);
    // on (the default), the same paths
    assertThat(path("/a//b")).isEqualTo("/a/b");
    assertThat(path("//a")).isEqualTo("/a");
    assertThat(path("/a//..")).isEqualTo("/");
    assertThat(path("/a%2f%2fb")).isEqualTo("/a/b");
  }

  @Test
  void asteriskFormIsNotServed() {
    // No route serves the server as a whole, and nginx refuses it: 400 whatever the method.
    for (var method : new String[] {"OPTIONS", "GET"}) {
      assertThatThrownBy(() -> vars(method, "*", DEFAULT))
          .isInstanceOf(PathNormalizer.BadTarget.class);
    }
    assertThatThrownBy(() -> vars("OPTIONS", "*x", DEFAULT))
        .isInstanceOf(PathNormalizer.BadTarget.class);
  }

  @Test
  void absoluteFormTakesTheHostFromTheAuthority() {
    var target = "http://Api.Example:8080/public/../admin/secret?x=1";
    var v = vars("GET", target, DEFAULT);
    assertThat(v.host()).isEqualTo("api.example");
    assertThat(v.headers().get("Host")).isEqualTo("Api.Example:8080");
    assertThat(v.path()).isEqualTo("/admin/secret");
    assertThat(v.get("args")).isEqualTo("x=1");
    assertThat(upstream(v, target)).isEqualTo("/admin/secret?x=1");
    var plain = vars("GET", "HTTPS://h/a/b", DEFAULT);
    assertThat(plain.path()).isEqualTo("/a/b");
    assertThat(upstream(plain, "HTTPS://h/a/b")).isEqualTo("/a/b");
    var root = vars("GET", "http://h", DEFAULT);
    assertThat(root.path()).isEqualTo("/");
    assertThat(upstream(root, "http://h")).isEqualTo("/");
    var rootQuery = vars("GET", "http://[::1]:80?q", DEFAULT);
    assertThat(rootQuery.host()).isEqualTo("[::1]");
    assertThat(upstream(rootQuery, "http://[::1]:80?q")).isEqualTo("/?q");
    bad("http://h/a/%00");
    bad("http://h/../a");
  }

  @Test
  void aPathMadeFromTheDecodedSpellingIsEscapedAgain() {
    var plain = "/a/b-c~d.e;f=g:h@i!$&'()*+,";
    assertThat(PathNormalizer.escapePath(plain)).isSameAs(plain);
    assertThat(PathNormalizer.escapePath("/x/%2e%2e/a b#c")).isEqualTo("/x/%252e%252e/a%20b%23c");
    assertThat(PathNormalizer.escapePath("/café/€?q=a b%"))
        .isEqualTo("/caf%C3%A9/%E2%82%AC?q=a b%");
    assertThat(PathNormalizer.escapePath("/\u0000\u007f\uD83D\uDE00"))
        .isEqualTo("/%00%7F%F0%9F%98%80");
    // escaping what normalization decoded gives back its encoded spelling
    var v = vars("/a%2520b/caf%C3%A9/x%7E");
    assertThat(PathNormalizer.escapePath(v.path()))
        .isEqualTo(upstream(v, "/a%2520b/caf%C3%A9/x%7E"))
        .isEqualTo("/a%2520b/caf%C3%A9/x~");
  }

  @Test
  void requestUriIsTheOriginFormAsReceived() {
    assertThat(vars("/a/../b?x=%2e").get("request_uri")).isEqualTo("/a/../b?x=%2e");
    assertThat(vars("/a/../b?x=%2e").rawUri()).isEqualTo("/a/../b?x=%2e");
    assertThat(vars("http://h/a/../b?x").get("request_uri")).isEqualTo("/a/../b?x");
    assertThat(vars("http://h").rawUri()).isEqualTo("/");
  }

  @Test
  void aRawPathRouteSeesAndForwardsThePathAsReceived() {
    var target = "/raw/./a//b/%2e%2e/c%2fd?q=%2e";
    var v = vars(target);
    assertThat(v.path()).isEqualTo("/raw/a/c/d");
    v.useRawPath();
    assertThat(v.path()).isEqualTo("/raw/./a//b/%2e%2e/c%2fd");
    assertThat(v.get("uri")).isEqualTo("/raw/./a//b/%2e%2e/c%2fd");
    assertThat(v.get("request_uri")).isEqualTo(target);
    assertThat(upstream(v, target)).isEqualTo(target);
    var absolute = vars("GET", "http://h/raw//x?y", DEFAULT);
    absolute.useRawPath();
    assertThat(upstream(absolute, "http://h/raw//x?y")).isEqualTo("/raw//x?y");
  }

  @Test
  void aPluginsRewriteIsKept() {
    var v = vars("/a/../b");
    var req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a/../b");
    v.applyTarget(req);
    assertThat(req.uri()).isEqualTo("/b");
    req.setUri("/rewritten");
    v.applyTarget(req);
    assertThat(req.uri()).isEqualTo("/rewritten");
  }

  // Property tests: plain loops over seeded random inputs (reproducible; the seed is in the
  // message).

  private static final String[] TOKENS = {
    "/", "/", "/", "a", "b", "c", ".", ".", "..", "%2e", "%2E", "%2f", "%2F", "%41", "%7e", "//",
    "%20", "~", "-", "%3F", ";", "%25"
  };

  @Test
  void agreesWithRfc3986RemoveDotSegmentsAfterDecodingAndMerging() {
    for (boolean merge : new boolean[] {true, false}) {
      var policy = new Policy(merge, EscapedSlashes.DECODE);
      var random = new Random(20);
      for (int n = 0; n < 20_000; n++) {
        var sb = new StringBuilder("/");
        int len = random.nextInt(12);
        for (int k = 0; k < len; k++) {
          sb.append(TOKENS[random.nextInt(TOKENS.length)]);
        }
        var target = sb.toString();
        var decoded =
            target
                .replace("%2e", ".")
                .replace("%2E", ".")
                .replace("%2f", "/")
                .replace("%2F", "/")
                .replace("%41", "A")
                .replace("%7e", "~");
        if (merge) {
          decoded = decoded.replaceAll("/+", "/");
        }
        var climbed = new boolean[1];
        var expected = removeDotSegments(decoded, climbed);
        boolean dotWithParameters = false;
        for (var segment : decoded.split("/")) {
          dotWithParameters |= segment.startsWith(".;") || segment.startsWith("..;");
        }
        if (climbed[0] || dotWithParameters) {
          bad(target, policy);
          continue;
        }
        var v = vars("GET", target, policy);
        var forwarded = upstream(v, target);
        assertThat(forwarded).as("%s (merge %s)", target, merge).isEqualTo(expected);
        assertThat(v.path())
            .as(target)
            .isEqualTo(URLDecoder.decode(expected.replace("+", "%2B"), StandardCharsets.UTF_8));
        // idempotent: the normalized form normalizes to itself
        assertThat(upstream(forwarded, policy)).as(target).isEqualTo(forwarded);
      }
    }
  }

  @Test
  void anyInputIsRefusedOrComesOutCanonical() {
    var random = new Random(4);
    char[] alphabet = "/./%2eEfF0aA~?;#%\u0000\u0001\u007f\u00e9\u0100 ".toCharArray();
    for (int n = 0; n < 50_000; n++) {
      var sb = new StringBuilder("/");
      int len = random.nextInt(16);
      for (int k = 0; k < len; k++) {
        sb.append(
            random.nextInt(4) == 0
                ? (char) random.nextInt(0x180)
                : alphabet[random.nextInt(alphabet.length)]);
      }
      var target = sb.toString();
      RequestVars v;
      try {
        v = vars(target);
      } catch (PathNormalizer.BadTarget e) {
        continue;
      }
      var forwarded = upstream(v, target);
      int q = forwarded.indexOf('?');
      var p = q < 0 ? forwarded : forwarded.substring(0, q);
      assertThat(p).as(target).startsWith("/").doesNotContain("//");
      assertThat(p.split("/")).as(target).doesNotContain(".", "..");
      for (char c : p.toCharArray()) {
        assertThat(c > ' ' && c < 0x7F).as("%s: %s", target, p).isTrue();
      }
      assertThat(v.path()).as(target).doesNotContain("//");
      assertThat(upstream(forwarded, DEFAULT)).as(target).isEqualTo(forwarded);
      assertThat(vars(forwarded).path()).as(target).isEqualTo(v.path());
    }
  }

  /** RFC 3986 §5.2.4 as written, with a note when ".." finds nothing left to remove. */
  private static String removeDotSegments(String path, boolean[] climbed) {
    var in = path;
    var out = new StringBuilder();
    while (!in.isEmpty()) {
      if (in.startsWith("../")) {
        in = in.substring(3);
      } else if (in.startsWith("./")) {
        in = in.substring(2);
      } else if (in.startsWith("/./")) {
        in = "/" + in.substring(3);
      } else if (in.equals("/.")) {
        in = "/";
      } else if (in.startsWith("/../") || in.equals("/..")) {
        in = "/" + in.substring(in.equals("/..") ? 3 : 4);
        if (out.isEmpty()) {
          climbed[0] = true;
        }
        int slash = out.lastIndexOf("/");
        out.setLength(Math.max(slash, 0));
      } else if (in.equals(".") || in.equals("..")) {
        in = "";
      } else {
        int next = in.indexOf('/', in.startsWith("/") ? 1 : 0);
        if (next < 0) {
          next = in.length();
        }
        out.append(in, 0, next);
        in = in.substring(next);
      }
    }
    return out.toString();
  }
}
