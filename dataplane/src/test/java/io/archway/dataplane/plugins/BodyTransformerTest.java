package io.archway.dataplane.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.model.ModelJson;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The template language, the XML shape and the decoders of body-transformer. */
class BodyTransformerTest {

  static String render(String template, LuaTable root) {
    return LuaTemplate.compile(template)
        .render(root, LuaTemplate.scope(Map.of("status", "200", "uri", "/x")::get, "raw"));
  }

  static LuaTable json(String s) throws Exception {
    return (LuaTable) LuaTable.fromJson(ModelJson.mapper().readTree(s));
  }

  @Test
  void expressionsEscapingAndRawOutput() throws Exception {
    var root = json("{\"name\":\"<A&B's/>\",\"n\":3,\"f\":1.5,\"t\":true,\"z\":null,\"a\":[1,2]}");
    assertThat(render("{{name}}|{*name*}", root)).isEqualTo("&lt;A&amp;B&#39;s&#47;&gt;|<A&B's/>");
    assertThat(render("{{n}} {{f}} {{t}} [{{z}}] [{{missing}}] {{#a}} {{#name}}", root))
        .isEqualTo("3 1.5 true [] [] 2 8");
    assertThat(render("{*'x' .. n .. \"y\"*} {*n + 1*} {*n * f*} {*-n*} {*7 % 3*}", root))
        .isEqualTo("x3y 4 4.5 -3 1");
    assertThat(render("{*a[2]*} {*a[3]*}", root)).isEqualTo("2 ");
    assertThat(render("{* n > 2 and 'big' or 'small' *}", root)).isEqualTo("big");
    assertThat(render("{* not t *} {* z ~= nil *} {* missing == nil *}", root))
        .isEqualTo("false true true");
    assertThat(render("{*_ctx.var.status*} {*_ctx.var['uri']*} {*_body*}", root))
        .isEqualTo("200 /x raw");
    assertThat(render("{*_escape_json(name)*} {*_escape_json(a)*} {*_escape_json(n)*}", root))
        .isEqualTo("\"<A&B's/>\" [1,2] 3");
    assertThat(render("{*_escape_xml(name)*}", root)).isEqualTo("&lt;A&amp;B&apos;s/&gt;");
    // As APISIX: gsub's second result makes {{ }} escape again, braces included.
    assertThat(render("{{_escape_xml('a&{b}')}}", root)).isEqualTo("a&amp;amp;&#123;b&#125;");
    assertThat(render("{*tostring(n) .. tonumber('4')*}", root)).isEqualTo("34");
  }

  @Test
  void controlFormsAndWhiteSpaceAsLuaRestyTemplate() throws Exception {
    var root = json("{\"items\":[{\"id\":1},{\"id\":2}],\"m\":{\"k\":\"v\"},\"x\":5}");
    assertThat(render("{% for i, v in ipairs(items) do %}{{i}}={{v.id}};{% end %}", root))
        .isEqualTo("1=1;2=2;");
    assertThat(render("{% for k, v in pairs(m) do %}{{k}}:{{v}}{% end %}", root)).isEqualTo("k:v");
    assertThat(render("{% for i = 1, 3 do %}{{i}}{% end %}", root)).isEqualTo("123");
    var branches = "{% if x > 9 then %}big{% elseif x > 4 then %}mid{% else %}small{% end %}";
    assertThat(render(branches, root)).isEqualTo("mid");
    assertThat(render("{% local y = x * 2 %}{{y}}", root)).isEqualTo("10");
    // Spaces before {% and one newline after %} and after #} are dropped.
    assertThat(render("a\n  {% if true then %}\nb\n  {% end %}\nc{# note #}\nd", root))
        .isEqualTo("a\nb\ncd");
    // A backslash writes a tag as text.
    assertThat(render("\\{{x}} \\\\{{x}}", root)).isEqualTo("{{x}} \\5");
    // An unclosed tag is text.
    assertThat(render("{{ x", root)).isEqualTo("{{ x");
  }

  @Test
  void whatIsNotTheTemplateLanguageIsRefusedWhenCompiled() {
    for (var bad :
        Map.of(
                "{% while true do %}{% end %}", "\"while\" is not supported",
                "{* string.upper(x) *}", "\"string\"",
                "{* x:upper() *}", "method calls",
                "{* os.time() *}", "\"os\"",
                "{% x = 1 %}", "assignments and calls",
                "{(header.html)}", "includes",
                "{-block-}x{-block-}", "blocks",
                "{% for k, v in next, t do %}{% end %}", "for ... in next",
                "{* _ctx.route_id *}", "_ctx.route_id is not supported",
                "{% if x then %}", "expected \"end\"")
            .entrySet()) {
      assertThatThrownBy(() -> LuaTemplate.compile(bad.getKey()))
          .as(bad.getKey())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(bad.getValue());
    }
  }

  @Test
  void renderingErrorsAreLuas() throws Exception {
    var root = json("{\"a\":1}");
    assertThatThrownBy(() -> render("{{b.c}}", root))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("attempt to index b (a nil value)");
    assertThatThrownBy(() -> render("{*'x' .. b*}", root))
        .hasMessageContaining("attempt to concatenate a nil value");
    assertThatThrownBy(() -> render("{*a < 'x'*}", root))
        .hasMessageContaining("attempt to compare number with string");
    assertThatThrownBy(() -> render("{{_ctx}}", root)).isInstanceOf(RuntimeException.class);
  }

  @Test
  void xmlHasXml2luasShapeWithoutNamespaces() {
    var soap =
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
          <SOAP-ENV:Header/>
          <SOAP-ENV:Body>
            <ns2:getCountryResponse xmlns:ns2="http://spring.io/guides/gs-producing-web-service">
              <ns2:country>
                <ns2:name>Spain</ns2:name>
                <ns2:population>46704314</ns2:population>
                <ns2:capital> Madrid </ns2:capital>
                <ns2:currency>EUR</ns2:currency>
              </ns2:country>
            </ns2:getCountryResponse>
            <list><i>a</i><i>b &amp; c</i></list>
            <fault><faultstring xml:lang="en">Bad</faultstring></fault>
            <![CDATA[]]>
          </SOAP-ENV:Body>
        </SOAP-ENV:Envelope>
        """;
    var t = XmlTree.parse(soap);
    assertThat(
            render(
                "{*Envelope.Body.getCountryResponse.country.name*}"
                    + " {*Envelope.Body.getCountryResponse.country.population*}"
                    + " [{*Envelope.Body.getCountryResponse.country.capital*}]"
                    + " [{*Envelope.Header*}] {*Envelope.Body.list.i[1]*},{*Envelope.Body.list.i[2]*}"
                    + " {*Envelope.Body.fault.faultstring[1]*}"
                    + " {*Envelope.Body.fault.faultstring._attr.lang*}",
                t))
        .isEqualTo("Spain 46704314 [Madrid] [] a,b & c Bad en");
    assertThatThrownBy(() -> XmlTree.parse("<a><b></a>"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Unbalanced Tag");
    assertThatThrownBy(() -> XmlTree.parse("<a><b>")).hasMessageContaining("Incomplete");
  }

  @Test
  void argsFormsAndMultipart() {
    var args = BodyTransformerPlugin.args("a=1&b=x%20y&b=z+w&flag");
    assertThat(render("{*a*} {*b[1]*} {*b[2]*} {*flag*}", args)).isEqualTo("1 x y z w true");
    var body =
        ("--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nJo\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\na\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nb\r\n--XyZ--\r\n")
            .getBytes(StandardCharsets.UTF_8);
    var parts = Multipart.parse(body, "multipart/form-data; boundary=XyZ");
    assertThat(render("{*name*} {*tag[1]*}{*tag[2]*}", parts)).isEqualTo("Jo ab");
  }

  @Test
  void templatesAreBase64DecodedAsApisixDoes() {
    var plain = "{\"a\":\"{{a}}\"}";
    var b64 = Base64.getEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
    assertThat(BodyTransformerPlugin.decodeBase64(plain)).isNull();
    assertThat(new String(BodyTransformerPlugin.decodeBase64(b64), StandardCharsets.UTF_8))
        .isEqualTo(plain);
    var c =
        BodyTransformerPlugin.Compiled.of(
            new BodyTransformerPlugin.Transform(null, b64, null), "response");
    // json decodes it; encoded and args do not; an unknown format does not.
    assertThat(c.template("json")).isSameAs(c.decoded());
    assertThat(c.template("encoded")).isSameAs(c.raw());
    assertThat(c.template(null)).isSameAs(c.raw());
    assertThat(BodyTransformerPlugin.format(null, "text/xml; charset=utf-8")).isEqualTo("xml");
    assertThat(BodyTransformerPlugin.format(null, "Application/X-WWW-Form-Urlencoded"))
        .isEqualTo("encoded");
    assertThat(BodyTransformerPlugin.format("plain", "application/json")).isEqualTo("plain");
  }

  @Test
  void graphqlDocumentsAreChecked() {
    var defs =
        GraphqlDocument.parse(
            "query Persons($name: String!, $ids: [ID!] = [\"1\"]) @cached {"
                + " persons(filter: {name: $name, ids: $ids}) { id ...F ... on P { age } } }"
                + " fragment F on Person { name } mutation M { x }");
    assertThat(defs)
        .extracting(GraphqlDocument.Definition::name)
        .containsExactly("Persons", "F", "M");
    assertThat(defs.get(0).variables()).containsExactly("name", "ids");
    assertThat(GraphqlDocument.parse("{ a }").get(0).kind()).isEqualTo("query");
    assertThatThrownBy(() -> GraphqlDocument.parse("query { a "))
        .hasMessageContaining("unclosed selection set");
    assertThatThrownBy(() -> GraphqlDocument.parse("query ($a: Int) { a(x: $b, y: ) }"))
        .hasMessageContaining("expected: a value");
    assertThatThrownBy(() -> GraphqlDocument.parse("select * from t"))
        .hasMessageContaining("unexpected \"select\"");
  }
}
