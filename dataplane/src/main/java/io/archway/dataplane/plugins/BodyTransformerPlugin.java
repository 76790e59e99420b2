package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * body-transformer: the request body (rewrite) and/or the response body (header and body filters)
 * decoded by {@code input_format} (xml, json, encoded, args, plain, multipart; when not set, from
 * the Content-Type; a GET request is always {@code args}) and rendered by a lua-resty-template
 * {@code template} ({@link LuaTemplate}, the part of the template language that is not Lua; the
 * rest is refused when the route compiles). As APISIX: the template is base64-decoded when {@code
 * template_is_base64}, and also whenever the input format is xml, json, plain or multipart and the
 * template happens to be valid base64; a request body that does not decode is 400 {@code
 * {"message": "request body decode: ..."}}, a rendering error 503 {@code {"message": "request
 * template rendering: ..."}}; a response that does not decode or render goes out unchanged
 * (logged). The Content-Type is left as it was (APISIX's examples set it with proxy-rewrite).
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class BodyTransformerPlugin implements Plugin<BodyTransformerPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(BodyTransformerPlugin.class);

  /** One direction's transformation. */
  public record Transform(String inputFormat, String template, Boolean templateIsBase64) {}

  /** The configuration; schema {@code body-transformer.json}. */
  public record Config(
      Transform request, Transform response, long maxReqBodySize, long maxRespBodySize) {}

  @Override
  public String name() {
    return "body-transformer";
  }

  @Override
  public int priority() {
    return 1080;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE, Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var req = conf.request() == null ? null : Compiled.of(conf.request(), "request");
    var res = conf.response() == null ? null : Compiled.of(conf.response(), "response");
    return new Instance(conf, req, res);
  }

  /**
   * A direction's templates, compiled when the route compiles: as written and, when it is valid
   * base64, decoded (which of the two renders depends on the format, which may depend on the
   * Content-Type of each message).
   */
  record Compiled(String format, boolean base64, LuaTemplate raw, LuaTemplate decoded) {

    static Compiled of(Transform t, String where) {
      var text = t.template();
      var bytes = decodeBase64(text);
      var decodedText = bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
      boolean base64 = Boolean.TRUE.equals(t.templateIsBase64());
      var fmt = t.inputFormat();
      // Which forms can render: the raw text unless base64 is forced (encoded, args, an unknown
      // or no format); the decoded one unless the format never decodes it.
      boolean rawUsed = decodedText == null || (!base64 && !decodes(fmt, where));
      boolean decodedUsed = decodedText != null && (base64 || maybeDecodes(fmt, where));
      var raw = rawUsed ? compile(text, where + ".template") : null;
      var dec = decodedUsed ? compile(decodedText, where + ".template (base64-decoded)") : null;
      return new Compiled(fmt, base64, raw, dec);
    }

    /** Whether the format always decodes the template. */
    private static boolean decodes(String fmt, String where) {
      return fmt != null
          && !fmt.equals("encoded")
          && !fmt.equals("args")
          && !where.equals("request");
    }

    /** Whether the format may decode the template for some message. */
    private static boolean maybeDecodes(String fmt, String where) {
      return fmt == null || (!fmt.equals("encoded") && !fmt.equals("args"));
    }

    private static LuaTemplate compile(String text, String where) {
      try {
        return LuaTemplate.compile(text);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage());
      }
    }

    LuaTemplate template(String format) {
      boolean decode =
          base64 || (format != null && !format.equals("encoded") && !format.equals("args"));
      return decode && decoded != null ? decoded : raw != null ? raw : decoded;
    }
  }

  /** ngx.decode_base64: the standard alphabet, padding optional; null when not base64. */
  static byte[] decodeBase64(String s) {
    if (s.isEmpty() || !s.matches("[A-Za-z0-9+/]*={0,2}")) {
      return null;
    }
    var body = s.replace("=", "");
    if (body.length() % 4 == 1 || (s.contains("=") && s.length() % 4 != 0)) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(body + "==".substring(0, (4 - body.length() % 4) % 4));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The input format: configured, else from the Content-Type (APISIX's set_input_format). */
  static String format(String configured, String contentType) {
    if (configured != null || contentType == null) {
      return configured;
    }
    if (contentType.contains("text/xml")) {
      return "xml";
    }
    if (contentType.contains("application/json")) {
      return "json";
    }
    var lower = contentType.toLowerCase(Locale.ROOT);
    if (lower.contains("application/x-www-form-urlencoded")) {
      return "encoded";
    }
    if (lower.contains("multipart/")) {
      return "multipart";
    }
    return null;
  }

  /** A body decoded to the template's environment, or the decoder's error. */
  static LuaTable decode(String format, byte[] body, String contentType, String query) {
    var text = body == null ? null : new String(body, StandardCharsets.UTF_8);
    return switch (format) {
      case "xml" -> XmlTree.parse(text == null ? "" : text);
      case "json" -> {
        JsonNode n;
        try {
          n = ModelJson.mapper().readTree(text == null ? "" : text);
        } catch (IOException e) {
          throw new IllegalArgumentException(
              "Expected value but found invalid token at character 1");
        }
        if (n == null || n.isMissingNode()) {
          throw new IllegalArgumentException("Expected value but found T_END at character 1");
        }
        if (!(LuaTable.fromJson(n) instanceof LuaTable t)) {
          throw new IllegalArgumentException("the JSON is not an object or an array");
        }
        yield t;
      }
      case "encoded" -> args(text == null ? "" : text);
      case "args" -> args(query == null ? "" : query);
      case "multipart" -> Multipart.parse(body == null ? new byte[0] : body, contentType);
      default -> new LuaTable();
    };
  }

  /** ngx.decode_args: repeated names become lists, a name without '=' is true. */
  static LuaTable args(String s) {
    var t = new LuaTable();
    if (s.isEmpty()) {
      return t;
    }
    for (var part : s.split("&")) {
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      var k = unescape(eq < 0 ? part : part.substring(0, eq));
      Object v = eq < 0 ? Boolean.TRUE : unescape(part.substring(eq + 1));
      if (k.isEmpty()) {
        continue;
      }
      var old = t.get(k);
      if (old == null) {
        t.put(k, v);
      } else if (old instanceof LuaTable list) {
        list.add(v);
      } else {
        var list = new LuaTable();
        list.add(old);
        list.add(v);
        t.put(k, list);
      }
    }
    return t;
  }

  private static String unescape(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  private record Instance(Config conf, Compiled req, Compiled res) implements PluginInstance {

    @Override
    public Outcome rewrite(PluginContext ctx) {
      if (req == null) {
        return Outcome.CONTINUE;
      }
      return ctx.withRequestBody(
          conf.maxReqBodySize(), LlmCall.BODY_TIMEOUT_MILLIS, body -> request(ctx, body));
    }

    private Outcome request(PluginContext ctx, byte[] bytes) {
      var body = bytes.length == 0 ? null : bytes;
      boolean get = ctx.request().method().equals(HttpMethod.GET);
      var ct = ctx.request().headers().get(HttpHeaderNames.CONTENT_TYPE);
      var format = get ? "args" : format(req.format(), ct);
      String out;
      try {
        out = transform(ctx, req, format, body, ct, get, "request");
      } catch (DecodeFailure e) {
        return message(400, e.getMessage());
      } catch (IllegalStateException e) {
        return message(503, "request template rendering: " + e.getMessage());
      }
      ctx.requestBody(out.getBytes(StandardCharsets.UTF_8));
      return Outcome.CONTINUE;
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      if (res == null) {
        return;
      }
      var ct = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
      ctx.state(this, new ResponseState(format(res.format(), ct), ct, response.status().code()));
      // The body changes: its length is the new body's (the gathered body is sent with it).
      response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
    }

    @Override
    public boolean wantsBody(PluginContext ctx) {
      return res != null && ctx.state(this) != null;
    }

    @Override
    public byte[] bodyFilter(PluginContext ctx, byte[] in) {
      ResponseState st = ctx.state(this);
      try {
        var out = transform(ctx, res, st.format(), in, st.contentType(), false, "response");
        return out.getBytes(StandardCharsets.UTF_8);
      } catch (DecodeFailure | IllegalStateException e) {
        LOG.error("failed to transform response body: {}", e.getMessage());
        return in;
      }
    }

    private String transform(
        PluginContext ctx,
        Compiled c,
        String format,
        byte[] body,
        String ct,
        boolean get,
        String typ) {
      LuaTable out = new LuaTable();
      if ((body != null || get) && !"plain".equals(format)) {
        if (format != null) {
          try {
            out = decode(format, body, ct, ctx.vars().get("args"));
          } catch (IllegalArgumentException e) {
            throw new DecodeFailure(typ + " body decode: " + e.getMessage());
          }
        } else {
          LOG.warn("no input format to parse {} body", typ);
        }
      }
      var template = c.template(format);
      var text = body == null ? null : new String(body, StandardCharsets.UTF_8);
      ResponseState st = typ.equals("response") ? ctx.state(this) : null;
      return template.render(
          out,
          new LuaTemplate.Scope() {
            @Override
            public String var(String name) {
              if (st != null && name.equals("status")) {
                return Integer.toString(st.status());
              }
              return ctx.get(name);
            }

            @Override
            public String body() {
              return text;
            }
          });
    }

    private static Outcome message(int status, String message) {
      return Outcome.respond(
          status,
          new DefaultHttpHeaders().set(HttpHeaderNames.CONTENT_TYPE, "application/json"),
          ("{\"message\":\"" + Outcome.jsonEscape(message) + "\"}")
              .getBytes(StandardCharsets.UTF_8));
    }
  }

  private record ResponseState(String format, String contentType, int status) {}

  private static final class DecodeFailure extends RuntimeException {
    DecodeFailure(String message) {
      super(message, null, false, false);
    }
  }
}
