package io.archway.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.archway.model.BodyPath;
import io.archway.model.Kind;
import io.archway.model.ModelJson;
import io.archway.model.Route;
import io.archway.model.Vars;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code post_arg.*}: the body's fields by content type ({@link BodyValues}), the operators on them
 * ({@link BodyTerms}), and the router's two steps (a body route makes the match wait for the body;
 * with it, the route is decided and the next ones tried).
 */
class BodyVarsTest {

  static final String JSON = "application/json";
  static final String FORM = "application/x-www-form-urlencoded";

  static Object get(String contentType, String body, String var) {
    return BodyValues.parse(contentType, body.getBytes(StandardCharsets.UTF_8))
        .get(BodyPath.of(var));
  }

  @Test
  void jsonFieldsByPath() {
    var body =
        """
        {"model": "gpt-4", "stream": true, "temperature": 0.7, "n": 2, "none": null,
         "user": {"name": "ann", "tags": ["a", "b", {"x": 1}], "meta": {}},
         "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
         "a.b": "dotted"}
        """;
    assertThat(get(JSON, body, "post_arg.model")).isEqualTo("gpt-4");
    assertThat(get(JSON, body, "post_arg.stream")).isEqualTo("true");
    assertThat(get(JSON, body, "post_arg.temperature")).isEqualTo("0.7");
    assertThat(get(JSON, body, "post_arg.n")).isEqualTo("2");
    assertThat(get(JSON, body, "post_arg.none")).isNull();
    assertThat(get(JSON, body, "post_arg.missing")).isNull();
    assertThat(get(JSON, body, "post_arg.user.name")).isEqualTo("ann");
    assertThat(get(JSON, body, "post_arg.user.name.first")).isNull();
    // An array: its scalars; an object: present, equal to nothing.
    assertThat(get(JSON, body, "post_arg.user.tags")).isEqualTo(List.of("a", "b"));
    assertThat(get(JSON, body, "post_arg.user.meta")).isEqualTo(List.of());
    assertThat(get(JSON, body, "post_arg.user.tags[1]")).isEqualTo("b");
    assertThat(get(JSON, body, "post_arg.user.tags[9]")).isNull();
    assertThat(get(JSON, body, "post_arg.messages[1].role")).isEqualTo("user");
    assertThat(get(JSON, body, "post_arg.messages[*].role")).isEqualTo(List.of("system", "user"));
    assertThat(get(JSON, body, "post_arg.messages.*.content")).isEqualTo(List.of("s", "u"));
    assertThat(get(JSON, body, "post_arg..role")).isEqualTo(List.of("system", "user"));
    assertThat(get(JSON, body, "post_arg.messages[*].nothing")).isNull();
    assertThat(get(JSON, body, "post_arg[\"a.b\"]")).isEqualTo("dotted");
    // The older post_arg_ reads urlencoded forms only.
    assertThat(get(JSON, body, "post_arg_model")).isNull();
  }

  @Test
  void aBodyThatDoesNotParseOrHasAnotherTypeHasNoFields() {
    assertThat(get(JSON, "{\"model\": \"gpt-4\"", "post_arg.model")).isNull();
    assertThat(get(JSON, "{\"model\": \"gpt-4\"} trailing", "post_arg.model")).isNull();
    assertThat(get("text/plain", "model=gpt-4", "post_arg.model")).isNull();
    assertThat(get(null, "{\"model\": \"gpt-4\"}", "post_arg.model")).isNull();
    // Parameters and case of the media type do not matter.
    assertThat(get("Application/JSON; charset=utf-8", "{\"m\": 1}", "post_arg.m")).isEqualTo("1");
    assertThat(BodyValues.kindOf("application/vnd.api+json")).isNull();
  }

  @Test
  void urlencodedForms() {
    var body = "name=json&age=18&tag=a&tag=b&user.name=dotted&sp=a+b%21";
    assertThat(get(FORM, body, "post_arg.name")).isEqualTo("json");
    assertThat(get(FORM, body, "post_arg.tag")).isEqualTo(List.of("a", "b"));
    assertThat(get(FORM, body, "post_arg.user.name")).isEqualTo("dotted");
    assertThat(get(FORM, body, "post_arg.sp")).isEqualTo("a b!");
    assertThat(get(FORM, body, "post_arg.missing")).isNull();
    assertThat(get(FORM + "; charset=utf-8", body, "post_arg_name")).isEqualTo("json");
    assertThat(get(FORM, body, "post_arg_tag")).isEqualTo("a");
    // A broken %-escape: the form does not parse (found by BodyValuesFuzzTest).
    assertThat(get(FORM, "name=json&a=%zz", "post_arg.name")).isNull();
  }

  @Test
  void multipartForms() {
    var ct = "multipart/form-data; boundary=\"XyZ\"";
    var body =
        "preamble\r\n--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4\r\n"
            + "--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
            + "Content-Type: text/plain\r\n\r\nline1\r\nline2\r\n"
            + "--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"tag\"\r\n\r\na\r\n"
            + "--XyZ\r\n"
            + "content-disposition: form-data; name=tag\r\n\r\nb\r\n"
            + "--XyZ--\r\n";
    assertThat(get(ct, body, "post_arg.model")).isEqualTo("gpt-4");
    assertThat(get(ct, body, "post_arg.file")).isEqualTo("line1\r\nline2");
    assertThat(get(ct, body, "post_arg.tag")).isEqualTo(List.of("a", "b"));
    // Not well formed: no close delimiter, no boundary, bare LF.
    assertThat(get(ct, body.substring(0, body.length() - 10), "post_arg.model")).isNull();
    assertThat(get("multipart/form-data", body, "post_arg.model")).isNull();
    assertThat(get(ct, body.replace("\r\n", "\n"), "post_arg.model")).isNull();
  }

  static boolean eval(String vars, String contentType, String body) throws Exception {
    var expr = Vars.parse((ArrayNode) ModelJson.mapper().readTree(vars));
    var r = RequestVars.of("POST", "/x?q=1", new DefaultHttpHeaders().set("x-a", "1"), "10.0.0.1");
    r.bodyValues(BodyValues.parse(contentType, body.getBytes(StandardCharsets.UTF_8)));
    return VarsMatcher.compile(expr).matches(r);
  }

  @Test
  void operatorsOnBodyValues() throws Exception {
    var b = "{\"model\":\"gpt-4\",\"n\":1.0,\"tags\":[\"a\",\"b\"],\"ip\":\"10.1.2.3\",\"o\":{}}";
    assertThat(eval("[[\"post_arg.model\",\"==\",\"gpt-4\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.model\",\"==\",\"gpt-3\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.model\",\"~=\",\"gpt-3\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.missing\",\"~=\",\"x\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.missing\",\"==\",\"x\"]]", JSON, b)).isFalse();
    // A number in the condition compares numerically, as lua-resty-expr does.
    assertThat(eval("[[\"post_arg.n\",\"==\",1]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.n\",\"==\",\"1\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.n\",\">\",0.5],[\"post_arg.n\",\"<=\",1]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.model\",\">\",1]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.model\",\"~~\",\"^gpt-[0-9]$\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.model\",\"~*\",\"^GPT\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.model\",\"!\",\"~~\",\"^gpt\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.model\",\"in\",[\"gpt-4\",\"x\"]]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.model\",\"in\",[\"x\"]]]", JSON, b)).isFalse();
    // has looks in a list; a scalar has nothing; a list equals nothing.
    assertThat(eval("[[\"post_arg.tags\",\"has\",\"b\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.tags\",\"has\",\"c\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.model\",\"has\",\"gpt\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.tags\",\"==\",\"a\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.tags\",\"~=\",\"a\"]]", JSON, b)).isTrue();
    assertThat(eval("[[\"post_arg.o\",\"==\",\"\"]]", JSON, b)).isFalse();
    assertThat(eval("[[\"post_arg.ip\",\"ipmatch\",\"10.1.0.0/16\"]]", JSON, b)).isTrue();
    // Mixed with head variables, AND / OR / negated groups.
    assertThat(eval("[[\"http_x_a\",\"==\",\"1\"],[\"post_arg.model\",\"==\",\"gpt-4\"]]", JSON, b))
        .isTrue();
    assertThat(eval("[\"OR\",[\"arg_q\",\"==\",\"2\"],[\"post_arg.tags\",\"has\",\"a\"]]", JSON, b))
        .isTrue();
    assertThat(eval("[\"!AND\",[\"post_arg.model\",\"==\",\"gpt-4\"]]", JSON, b)).isFalse();
    // Another content type: no fields.
    assertThat(eval("[[\"post_arg.model\",\"==\",\"gpt-4\"]]", "text/plain", b)).isFalse();
  }

  @Test
  void beforeTheBodyIsReadBodyTermsAreUnknown() throws Exception {
    var r = RequestVars.of("POST", "/x?q=1", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(head("[[\"post_arg.a\",\"==\",\"1\"]]", r)).isEqualTo(BodyTerms.UNKNOWN);
    assertThat(head("[[\"arg_q\",\"==\",\"2\"],[\"post_arg.a\",\"==\",\"1\"]]", r))
        .isEqualTo(BodyTerms.NO);
    assertThat(head("[[\"arg_q\",\"==\",\"1\"],[\"post_arg.a\",\"==\",\"1\"]]", r))
        .isEqualTo(BodyTerms.UNKNOWN);
    assertThat(head("[\"OR\",[\"arg_q\",\"==\",\"1\"],[\"post_arg.a\",\"==\",\"1\"]]", r))
        .isEqualTo(BodyTerms.YES);
    assertThat(head("[\"!OR\",[\"arg_q\",\"==\",\"1\"],[\"post_arg.a\",\"==\",\"1\"]]", r))
        .isEqualTo(BodyTerms.NO);
    assertThat(head("[\"!AND\",[\"post_arg.a\",\"==\",\"1\"]]", r)).isEqualTo(BodyTerms.UNKNOWN);
  }

  static int head(String vars, RequestVars r) throws Exception {
    var expr = Vars.parse((ArrayNode) ModelJson.mapper().readTree(vars));
    return BodyTerms.head(expr).test(r);
  }

  static Router<String> router(String... routes) throws Exception {
    var list = new ArrayList<RouteEntry<String>>();
    for (var json : routes) {
      var route = (Route) ModelJson.read(Kind.ROUTES, json.getBytes(), null, "test");
      list.add(new RouteEntry<>(route.id(), route, List.of(), route.id()));
    }
    return Router.build(list);
  }

  @Test
  void theRouterWaitsForTheBodyOnlyWhenABodyRouteIsNextInLine() throws Exception {
    var router =
        router(
            "{\"id\":\"gpt4\",\"uri\":\"/chat\",\"priority\":10,\"upstream_id\":\"u\","
                + "\"vars\":[[\"post_arg.model\",\"==\",\"gpt-4\"]]}",
            "{\"id\":\"canary\",\"uri\":\"/chat\",\"priority\":20,\"upstream_id\":\"u\","
                + "\"vars\":[[\"http_x_canary\",\"==\",\"1\"]]}",
            "{\"id\":\"rest\",\"uri\":\"/chat\",\"upstream_id\":\"u\"}",
            "{\"id\":\"other\",\"uri\":\"/other\",\"upstream_id\":\"u\"}");
    // Another path, or a route before the body route that matches on the head: no wait.
    var other = RequestVars.of("POST", "/other", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(other).target()).isEqualTo("other");
    assertThat(other.awaitsBody()).isFalse();
    var canary =
        RequestVars.of("POST", "/chat", new DefaultHttpHeaders().set("x-canary", "1"), "1.1.1.1");
    assertThat(router.match(canary).target()).isEqualTo("canary");
    assertThat(canary.awaitsBody()).isFalse();
    // Otherwise the body route decides first.
    var chat = RequestVars.of("POST", "/chat", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(chat)).isNull();
    assertThat(chat.awaitsBody()).isTrue();
    chat.bodyValues(BodyValues.parse(JSON, "{\"model\":\"gpt-4\"}".getBytes()));
    assertThat(router.match(chat).target()).isEqualTo("gpt4");
    assertThat(chat.awaitsBody()).isFalse();
    // ... and when it does not match, the next route is tried.
    var other4 = RequestVars.of("POST", "/chat", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(other4)).isNull();
    other4.bodyValues(BodyValues.parse(JSON, "{\"model\":\"gpt-3\"}".getBytes()));
    assertThat(router.match(other4).target()).isEqualTo("rest");
    var none = RequestVars.of("POST", "/chat", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(none)).isNull();
    none.bodyValues(BodyValues.NONE);
    assertThat(router.match(none).target()).isEqualTo("rest");
  }

  @Test
  void aBodyRouteWhoseHeadTermsFailNeverWaits() throws Exception {
    var router =
        router(
            "{\"id\":\"b\",\"uri\":\"/chat\",\"priority\":10,\"methods\":[\"POST\"],"
                + "\"upstream_id\":\"u\",\"vars\":[[\"arg_v\",\"==\",\"2\"],"
                + "[\"post_arg.model\",\"==\",\"gpt-4\"]]}",
            "{\"id\":\"rest\",\"uri\":\"/chat\",\"upstream_id\":\"u\"}");
    var get = RequestVars.of("GET", "/chat?v=2", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(get).target()).isEqualTo("rest");
    var v1 = RequestVars.of("POST", "/chat?v=1", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(v1).target()).isEqualTo("rest");
    var v2 = RequestVars.of("POST", "/chat?v=2", new DefaultHttpHeaders(), "10.0.0.1");
    assertThat(router.match(v2)).isNull();
    assertThat(v2.awaitsBody()).isTrue();
  }
}
