package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.BodyStream;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * grpc-web (APISIX 3.x, priority 505): a browser's gRPC-Web request is proxied to a gRPC node as
 * real gRPC, and the answer turned back into gRPC-Web, all as it streams.
 *
 * <p>Access: {@code OPTIONS} (a CORS preflight) is answered 204 with the CORS fields; another
 * method than {@code POST} is 405; a content type other than {@code application/grpc-web}, {@code
 * application/grpc-web+proto}, {@code application/grpc-web-text} or {@code
 * application/grpc-web-text+proto} is 400. The route must match by prefix ({@code /grpc/web/*}):
 * the part the {@code *} matched is the gRPC path ({@code /pkg.Service/Method}), as APISIX's {@code
 * :ext}; a route without one is 400. The request goes on with {@code content-type:
 * application/grpc} (so the proxy treats it as gRPC: {@code te: trailers}, no body held back,
 * {@code grpc-timeout} watched), its base64 ({@code -text}) decoded piece by piece ({@link
 * PluginContext#requestBodyStream}).
 *
 * <p>Response: the content type the client sent, {@code Access-Control-Allow-Origin: *} (unless the
 * cors plugin set one), {@code Access-Control-Expose-Headers: grpc-message,grpc-status}; the DATA
 * as it comes (its base64 for {@code -text}, each piece a padded segment), then the node's trailers
 * (a trailers-only answer's status fields too) as the trailer frame ({@link GrpcWebCodec}); no
 * status from the node is {@code grpc-status: 2} "upstream grpc status not received", as APISIX. An
 * answer that is no gRPC answer (an HTTP error from the gateway or the node) keeps its HTTP status;
 * its body is replaced by the trailer frame of the gRPC status gRPC maps it to.
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class GrpcWebPlugin implements Plugin<GrpcWebPlugin.Config> {

  /** The configuration; schema {@code grpc-web.json}. */
  public record Config(String corsAllowHeaders) {}

  @Override
  public String name() {
    return "grpc-web";
  }

  @Override
  public int priority() {
    return 505;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.ACCESS, Phase.HEADER_FILTER, Phase.BODY_FILTER);
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    return new Instance(conf.corsAllowHeaders());
  }

  static final String PROXY_CONTENT_TYPE = "application/grpc";
  static final String EXPOSE_HEADERS = "grpc-message,grpc-status";

  /** Whether a gRPC-Web content type is the base64 ({@code -text}) one; null: not gRPC-Web. */
  static Boolean textMode(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semi = contentType.indexOf(';');
    var media = (semi < 0 ? contentType : contentType.substring(0, semi)).strip();
    return switch (media.toLowerCase(Locale.ROOT)) {
      case "application/grpc-web", "application/grpc-web+proto" -> Boolean.FALSE;
      case "application/grpc-web-text", "application/grpc-web-text+proto" -> Boolean.TRUE;
      default -> null;
    };
  }

  /**
   * The gRPC path for {@code path} under the first of {@code routePaths} that ends with {@code *}
   * and is a prefix of it, always starting with {@code /}; null when there is none.
   */
  static String grpcPath(String path, List<String> routePaths) {
    for (var p : routePaths) {
      if (p.endsWith("*")) {
        var prefix = p.substring(0, p.length() - 1);
        if (path.startsWith(prefix)) {
          var ext = path.substring(prefix.length());
          return ext.startsWith("/") ? ext : "/" + ext;
        }
      }
    }
    return null;
  }

  /**
   * The gRPC status gRPC's clients give an HTTP status that carries none (gRPC's "HTTP to gRPC
   * status code mapping", plus the gateway's timeouts and limits).
   */
  static int grpcStatusOf(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 408 -> 4; // DEADLINE_EXCEEDED
      case 413 -> 8; // RESOURCE_EXHAUSTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }

  /** What the access phase decided, for the response phases. */
  private sealed interface State {}

  /** Refused here (405, 400): the answer goes as it is. */
  private record Refused() implements State {}

  /** A preflight: answered with the CORS fields. */
  private record Preflight(String mime) implements State {}

  /** Proxied as gRPC; {@code headStatus}: the status fields of a trailers-only answer. */
  private static final class Call implements State {
    final String mime;
    final boolean text;
    HttpHeaders headStatus;
    int httpError; // not a gRPC answer: its HTTP status, its body dropped

    Call(String mime, boolean text) {
      this.mime = mime;
      this.text = text;
    }
  }

  private static final State REFUSED = new Refused();

  private static final class Instance implements PluginInstance {
    private final String corsAllowHeaders;

    Instance(String corsAllowHeaders) {
      this.corsAllowHeaders = corsAllowHeaders;
    }

    @Override
    public Outcome access(PluginContext ctx) {
      var req = ctx.request();
      var mime = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
      var method = req.method();
      if (method.equals(HttpMethod.OPTIONS)) {
        ctx.state(this, new Preflight(mime));
        return Outcome.status(204);
      }
      if (!method.equals(HttpMethod.POST)) {
        ctx.state(this, REFUSED);
        return Outcome.status(405);
      }
      var text = textMode(mime);
      if (text == null) {
        ctx.state(this, REFUSED);
        return Outcome.status(400);
      }
      var path = grpcPath(ctx.vars().path(), ctx.routePaths());
      if (path == null) {
        // APISIX: "grpc-web plugin only supports `prefix matching` pattern routing".
        ctx.state(this, REFUSED);
        return Outcome.status(400);
      }
      var uri = req.uri();
      int q = uri.indexOf('?');
      req.setUri(q < 0 ? path : path + uri.substring(q));
      req.headers().set(HttpHeaderNames.CONTENT_TYPE, PROXY_CONTENT_TYPE);
      if (text) {
        ctx.requestBodyStream(new DecodingStream());
      }
      ctx.state(this, new Call(mime, text));
      return Outcome.CONTINUE;
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      State state = ctx.state(this);
      if (state instanceof Refused) {
        return;
      }
      var h = response.headers();
      if (state instanceof Preflight p) {
        h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "POST");
        h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, corsAllowHeaders);
        setMime(h, p.mime());
      }
      if (!h.contains(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN)) {
        h.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
      }
      h.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSE_HEADERS);
      if (!(state instanceof Call call)) {
        return; // a preflight, or refused before this plugin ran (an auth plugin's 401)
      }
      setMime(h, call.mime);
      h.remove(HttpHeaderNames.CONTENT_LENGTH);
      h.remove(HttpHeaderNames.CONTENT_ENCODING);
      if (h.contains(GrpcWebCodec.STATUS)) {
        // A trailers-only answer: its status goes in the trailer frame like any trailers.
        call.headStatus = new DefaultHttpHeaders();
        for (var name :
            List.of(GrpcWebCodec.STATUS, GrpcWebCodec.MESSAGE, GrpcWebCodec.STATUS_DETAILS)) {
          var v = h.get(name);
          if (v != null) {
            call.headStatus.set(name, v);
            h.remove(name);
          }
        }
      } else if (response.status().code() != 200) {
        call.httpError = response.status().code();
      }
    }

    private static void setMime(HttpHeaders h, String mime) {
      if (mime == null) {
        h.remove(HttpHeaderNames.CONTENT_TYPE);
      } else {
        h.set(HttpHeaderNames.CONTENT_TYPE, mime);
      }
    }

    @Override
    public BodyStream bodyStream(PluginContext ctx) {
      return ctx.state(this) instanceof Call call ? new EncodingStream(call) : null;
    }
  }

  /** The request's base64 decoded as it streams ({@code -text}). */
  static final class DecodingStream implements BodyStream {
    private final GrpcWebCodec.Base64Decoder decoder = new GrpcWebCodec.Base64Decoder();

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      return decoder.next(in, alloc);
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      decoder.finish();
      return Unpooled.EMPTY_BUFFER;
    }

    @Override
    public void abort() {}
  }

  /** One answer back to gRPC-Web: the DATA (or its base64), then the trailer frame. */
  private static final class EncodingStream implements BodyStream {
    private final Call call;

    EncodingStream(Call call) {
      this.call = call;
    }

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      if (call.httpError != 0) {
        in.release(); // an error page, not gRPC messages
        return Unpooled.EMPTY_BUFFER;
      }
      return call.text ? GrpcWebCodec.encodeBase64(in, alloc) : in;
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      return finish(alloc, new DefaultHttpHeaders());
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc, HttpHeaders trailers) {
      var fields = GrpcWebCodec.trailerFields(call.headStatus, trailers);
      if (fields.isEmpty() || !fields.get(0).getKey().equals(GrpcWebCodec.STATUS)) {
        var status =
            call.httpError != 0
                ? Map.entry(GrpcWebCodec.STATUS, Integer.toString(grpcStatusOf(call.httpError)))
                : Map.entry(GrpcWebCodec.STATUS, "2");
        var message =
            call.httpError != 0
                ? Map.entry(GrpcWebCodec.MESSAGE, "HTTP status " + call.httpError)
                : Map.entry(GrpcWebCodec.MESSAGE, "upstream grpc status not received");
        var all = new java.util.ArrayList<Map.Entry<String, String>>();
        all.add(status);
        all.add(message);
        all.addAll(fields);
        fields = all;
      }
      var frame = GrpcWebCodec.trailerFrame(fields, alloc);
      return call.text ? GrpcWebCodec.encodeBase64(frame, alloc) : frame;
    }

    @Override
    public void abort() {}
  }
}
