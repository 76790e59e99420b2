package io.archway.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouterTest {

  private static RouteEntry<String> entry(String json) throws Exception {
    var route = (Route) ModelJson.read(Kind.ROUTES, json.getBytes(), null, "test");
    var hosts =
        route.host() != null
            ? List.of(route.host())
            : route.hosts() == null ? List.<String>of() : route.hosts();
    return new RouteEntry<>(route.id(), route, hosts, route.id());
  }

  private static Router<String> router(String... routes) throws Exception {
    var list = new ArrayList<RouteEntry<String>>();
    for (var r : routes) {
      list.add(entry(r));
    }
    return Router.build(list);
  }

  private static String match(Router<String> router, String method, String uri, String host) {
    return match(router, method, uri, host, "10.1.2.3", new DefaultHttpHeaders());
  }

  private static String match(
      Router<String> router, String method, String uri, String host, String ip, HttpHeaders h) {
    if (host != null) {
      h.set("Host", host);
    }
    var hit = router.match(RequestVars.of(method, uri, h, ip));
    return hit == null ? null : hit.target();
  }

  private static String r(String id, String fields) {
    return "{\"id\":\"" + id + "\"," + fields + ",\"upstream_id\":\"u\"}";
  }

  @Test
  void routesMatchTheNormalizedPathAndRawPathOnlyChangesWhatTheMatchedRouteSees() throws Exception {
    var router =
        router(
            r("raw", "\"uri\":\"/raw/*\",\"raw_path\":true"),
            r("admin", "\"uri\":\"/admin/*\""),
            r("users", "\"uri\":\"/users/:id\""));
    assertThat(match(router, "GET", "/raw/../admin/x", null)).isEqualTo("admin");
    assertThat(match(router, "GET", "/users/%2e/7", null)).isEqualTo("users");
    var v = RequestVars.of("GET", "/raw/./a%2fb", new DefaultHttpHeaders(), "10.1.2.3");
    assertThat(router.match(v).target()).isEqualTo("raw");
    assertThat(v.path()).isEqualTo("/raw/./a%2fb");
    assertThat(v.usesRawPath()).isTrue();
    var other = RequestVars.of("GET", "/admin/./a", new DefaultHttpHeaders(), "10.1.2.3");
    assertThat(router.match(other).target()).isEqualTo("admin");
    assertThat(other.path()).isEqualTo("/admin/a");
    assertThat(other.usesRawPath()).isFalse();
  }

  @Test
  void exactPrefixAndParameterPaths() throws Exception {
    var router =
        router(
            r("exact", "\"uri\":\"/api/users\""),
            r("prefix", "\"uri\":\"/api/*\""),
            r("longer", "\"uri\":\"/api/v2/*\""),
            r("param", "\"uri\":\"/users/:id\""),
            r("param-rest", "\"uri\":\"/files/:bucket/*\""),
            r("root", "\"uri\":\"/*\""));
    assertThat(match(router, "GET", "/api/users", null)).isEqualTo("exact");
    assertThat(match(router, "GET", "/api/users/7", null)).isEqualTo("prefix");
    assertThat(match(router, "GET", "/api/v2/x", null)).isEqualTo("longer");
    assertThat(match(router, "GET", "/api", null)).isEqualTo("root");
    assertThat(match(router, "GET", "/users/42", null)).isEqualTo("param");
    assertThat(match(router, "GET", "/users/42/more", null)).isEqualTo("root");
    assertThat(match(router, "GET", "/users/", null)).isEqualTo("root");
    assertThat(match(router, "GET", "/files/b1/a/b/c", null)).isEqualTo("param-rest");
    assertThat(match(router, "GET", "/api/users?x=1", null)).isEqualTo("exact");
    assertThat(match(router, "GET", "/api/%75sers", null)).isEqualTo("exact");
  }

  @Test
  void nothingMatchesWithoutACatchAll() throws Exception {
    var router = router(r("a", "\"uri\":\"/a\""), r("b", "\"uris\":[\"/b\",\"/c/*\"]"));
    assertThat(match(router, "GET", "/b", null)).isEqualTo("b");
    assertThat(match(router, "GET", "/c/d", null)).isEqualTo("b");
    assertThat(match(router, "GET", "/d", null)).isNull();
    assertThat(match(router, "GET", "/a/", null)).isNull();
  }

  @Test
  void hostsExactThenWildcardThenAny() throws Exception {
    var router =
        router(
            r("exact", "\"uri\":\"/*\",\"host\":\"api.example.com\""),
            r("wild", "\"uri\":\"/*\",\"hosts\":[\"*.example.com\"]"),
            r("wild-b", "\"uri\":\"/*\",\"hosts\":[\"*.b.example.com\"]"),
            r("any", "\"uri\":\"/*\",\"priority\":100"));
    assertThat(match(router, "GET", "/x", "api.example.com")).isEqualTo("exact");
    assertThat(match(router, "GET", "/x", "API.example.com:8080")).isEqualTo("exact");
    assertThat(match(router, "GET", "/x", "www.example.com")).isEqualTo("wild");
    // As lua-resty-radixtree: a wildcard is a suffix, however many labels come before it, and
    // the longest suffix wins.
    assertThat(match(router, "GET", "/x", "a.c.example.com")).isEqualTo("wild");
    assertThat(match(router, "GET", "/x", "a.b.example.com")).isEqualTo("wild-b");
    assertThat(match(router, "GET", "/x", "x.y.b.example.com")).isEqualTo("wild-b");
    assertThat(match(router, "GET", "/x", "example.com")).isEqualTo("any");
    assertThat(match(router, "GET", "/x", null)).isEqualTo("any");
  }

  @Test
  void methodsAndPriorityAndDisabledRoutes() throws Exception {
    var router =
        router(
            r("get", "\"uri\":\"/m\",\"methods\":[\"GET\",\"HEAD\"]"),
            r("post", "\"uri\":\"/m\",\"methods\":[\"POST\"],\"priority\":5"),
            r("low", "\"uri\":\"/p\",\"priority\":1"),
            r("high", "\"uri\":\"/p\",\"priority\":10"));
    assertThat(match(router, "GET", "/m", null)).isEqualTo("get");
    assertThat(match(router, "POST", "/m", null)).isEqualTo("post");
    assertThat(match(router, "DELETE", "/m", null)).isNull();
    assertThat(match(router, "GET", "/p", null)).isEqualTo("high");
  }

  @Test
  void remoteAddressesIpv4AndIpv6() throws Exception {
    var router =
        router(
            r("v4", "\"uri\":\"/r\",\"remote_addrs\":[\"10.0.0.0/8\",\"192.168.1.7\"]"),
            r("v6", "\"uri\":\"/r\",\"remote_addr\":\"2001:db8::/32\""));
    var h = new DefaultHttpHeaders();
    assertThat(match(router, "GET", "/r", null, "10.9.9.9", h)).isEqualTo("v4");
    assertThat(match(router, "GET", "/r", null, "192.168.1.7", h)).isEqualTo("v4");
    assertThat(match(router, "GET", "/r", null, "192.168.1.8", h)).isNull();
    assertThat(match(router, "GET", "/r", null, "2001:db8:1::5", h)).isEqualTo("v6");
    assertThat(match(router, "GET", "/r", null, "2001:db9::5", h)).isNull();
  }

  @Test
  void varsExpressions() throws Exception {
    var router =
        router(
            r(
                "v",
                "\"uri\":\"/v\",\"priority\":9,\"vars\":[[\"arg_format\",\"==\",\"json\"],"
                    + "[\"http_x_api_version\",\"~~\",\"^v[0-9]+$\"]]"),
            r(
                "or",
                "\"uri\":\"/v\",\"priority\":5,\"vars\":[\"OR\",[\"cookie_team\",\"in\",[\"a\",\"b\"]],"
                    + "[\"arg_n\",\">\",10]]"),
            r("not", "\"uri\":\"/v\",\"priority\":1,\"vars\":[[\"arg_x\",\"!\",\"~*\",\"^no\"]]"),
            r("fallback", "\"uri\":\"/v\",\"priority\":0"));
    var h = new DefaultHttpHeaders().set("X-Api-Version", "v2");
    assertThat(match(router, "GET", "/v?format=json", null, "1.1.1.1", h)).isEqualTo("v");
    assertThat(match(router, "GET", "/v?format=xml", null, "1.1.1.1", h)).isEqualTo("not");
    assertThat(match(router, "GET", "/v?x=NOPE", null, "1.1.1.1", new DefaultHttpHeaders()))
        .isEqualTo("fallback");
    assertThat(
            match(
                router,
                "GET",
                "/v?x=NOPE",
                null,
                "1.1.1.1",
                new DefaultHttpHeaders().set("Cookie", "team=b; other=1")))
        .isEqualTo("or");
    assertThat(match(router, "GET", "/v?n=11&x=no", null, "1.1.1.1", new DefaultHttpHeaders()))
        .isEqualTo("or");
    assertThat(match(router, "GET", "/v?n=9&x=no", null, "1.1.1.1", new DefaultHttpHeaders()))
        .isEqualTo("fallback");
    var ops =
        router(
            r(
                "has",
                "\"uri\":\"/o\",\"priority\":3,\"vars\":[[\"http_user_agent\",\"has\",\"curl\"]]"),
            r("ne", "\"uri\":\"/o\",\"priority\":2,\"vars\":[[\"request_method\",\"~=\",\"GET\"]]"),
            r(
                "ip",
                "\"uri\":\"/o\",\"priority\":1,\"vars\":[[\"remote_addr\",\"ipmatch\",[\"10.0.0.0/8\"]]]"));
    assertThat(
            match(
                ops,
                "GET",
                "/o",
                null,
                "1.1.1.1",
                new DefaultHttpHeaders().set("User-Agent", "curl/8")))
        .isEqualTo("has");
    assertThat(match(ops, "PUT", "/o", null, "1.1.1.1", new DefaultHttpHeaders())).isEqualTo("ne");
    assertThat(match(ops, "GET", "/o", null, "10.1.1.1", new DefaultHttpHeaders())).isEqualTo("ip");
    assertThat(match(ops, "GET", "/o", null, "11.1.1.1", new DefaultHttpHeaders())).isNull();
    var cmp =
        router(
            r(
                "ge",
                "\"uri\":\"/c\",\"vars\":[[\"arg_a\",\">=\",5],[\"arg_a\",\"<\",7],[\"arg_b\",\"<=\",\"1.5\"]]"));
    assertThat(match(cmp, "GET", "/c?a=5&b=1.5", null)).isEqualTo("ge");
    assertThat(match(cmp, "GET", "/c?a=7&b=1", null)).isNull();
    assertThat(match(cmp, "GET", "/c?a=x&b=1", null)).isNull();
  }

  @Test
  void tenThousandRoutesMatchEachOwnPath() throws Exception {
    var list = new ArrayList<RouteEntry<String>>();
    for (int i = 0; i < 10_000; i++) {
      var kind = i % 3;
      var uri =
          switch (kind) {
            case 0 -> "/svc" + i + "/items";
            case 1 -> "/svc" + i + "/*";
            default -> "/svc" + i + "/:id/detail";
          };
      list.add(
          entry(r("r" + i, "\"uri\":\"" + uri + "\",\"host\":\"h" + (i % 50) + ".example.com\"")));
    }
    var router = Router.build(list);
    assertThat(router.size()).isEqualTo(10_000);
    for (int i = 0; i < 10_000; i += 7) {
      var path =
          switch (i % 3) {
            case 0 -> "/svc" + i + "/items";
            case 1 -> "/svc" + i + "/anything/below";
            default -> "/svc" + i + "/42/detail";
          };
      assertThat(match(router, "GET", path, "h" + (i % 50) + ".example.com")).isEqualTo("r" + i);
      assertThat(match(router, "GET", path, "other.example.com")).isNull();
    }
  }
}
