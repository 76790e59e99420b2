package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * gzip: compresses the response body as it streams (Netty's zlib encoder, each piece flushed as it
 * comes, nothing held whole) when the client accepts gzip, its HTTP version is at least {@code
 * http_version}, the response's Content-Type is one of {@code types} (or any with {@code "*"}), its
 * Content-Length (when it has one) is at least {@code min_length}, and it is not encoded already.
 * As nginx does: no body (HEAD, 204, 304) is left alone, a strong ETag becomes weak, {@code vary}
 * adds {@code Vary: Accept-Encoding}. {@code buffers} is accepted and has no effect, and so is
 * {@code http_version: 1.0}: HTTP/1.0 clients are not compressed (no chunked coding for a body
 * whose length is not known in advance).
 */
@PluginTraits(category = Plugin.Category.TRANSFORMATION, dryRun = Plugin.DryRun.RUNS)
public final class GzipPlugin implements Plugin<GzipPlugin.Config> {

  /** The configuration; schema {@code gzip.json}. */
  public record Config(
      JsonNode types,
      int minLength,
      int compLevel,
      double httpVersion,
      Buffers buffers,
      Boolean vary) {}

  /** nginx's {@code gzip_buffers}. */
  public record Buffers(int number, int size) {}

  @Override
  public String name() {
    return "gzip";
  }

  @Override
  public int priority() {
    return 995;
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
    Set<String> types = null; // null: any
    if (conf.types().isArray()) {
      types = new HashSet<>();
      for (var t : conf.types()) {
        types.add(t.asText().strip().toLowerCase(Locale.ROOT));
      }
      types = Set.copyOf(types);
    }
    return new Instance(
        types,
        conf.minLength(),
        conf.compLevel(),
        conf.httpVersion() >= 1.1 ? 11 : 10,
        Boolean.TRUE.equals(conf.vary()));
  }

  /** Whether an Accept-Encoding value accepts gzip (listed, and not with {@code q=0}). */
  static boolean acceptsGzip(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (var part : acceptEncoding.split(",")) {
      var fields = part.split(";");
      if (!fields[0].strip().equalsIgnoreCase("gzip")) {
        continue;
      }
      for (int i = 1; i < fields.length; i++) {
        var p = fields[i].strip().toLowerCase(Locale.ROOT);
        if (p.startsWith("q=")) {
          try {
            return Double.parseDouble(p.substring(2)) > 0;
          } catch (NumberFormatException e) {
            return false;
          }
        }
      }
      return true;
    }
    return false;
  }

  private static final class Instance implements PluginInstance {
    private static final Object YES = "gzip";
    private static final Object NO = "no";

    private final Set<String> types;
    private final int minLength;
    private final int level;
    private final int minVersion; // 10 or 11
    private final boolean vary;

    Instance(Set<String> types, int minLength, int level, int minVersion, boolean vary) {
      this.types = types;
      this.minLength = minLength;
      this.level = level;
      this.minVersion = minVersion;
      this.vary = vary;
    }

    @Override
    public Outcome rewrite(PluginContext ctx) {
      // The version the client spoke: the request goes upstream as HTTP/1.1 whatever it was.
      // HTTP/1.0 has no chunked coding, and a compressed body has no length known in advance:
      // its clients get the body as it is (nginx closes their connection instead).
      var v = ctx.request().protocolVersion();
      int version = v.majorVersion() * 10 + v.minorVersion();
      ctx.state(this, version >= minVersion && version >= 11 ? YES : NO);
      return Outcome.CONTINUE;
    }

    @Override
    public void headerFilter(PluginContext ctx, HttpResponse response) {
      boolean compress = compresses(ctx, response);
      ctx.state(this, compress ? YES : NO);
      if (!compress) {
        return;
      }
      var h = response.headers();
      h.set(HttpHeaderNames.CONTENT_ENCODING, "gzip");
      h.remove(HttpHeaderNames.CONTENT_LENGTH);
      var etag = h.get(HttpHeaderNames.ETAG);
      if (etag != null && etag.startsWith("\"")) {
        h.set(HttpHeaderNames.ETAG, "W/" + etag);
      }
      if (vary) {
        h.add(HttpHeaderNames.VARY, "Accept-Encoding");
      }
    }

    private boolean compresses(PluginContext ctx, HttpResponse response) {
      Object version = ctx.state(this);
      if (version == NO) {
        return false;
      }
      var req = ctx.request();
      if (req.method().equals(HttpMethod.HEAD)
          || !acceptsGzip(req.headers().get(HttpHeaderNames.ACCEPT_ENCODING))) {
        return false;
      }
      int status = response.status().code();
      if (status < 200 || status == 204 || status == 304) {
        return false;
      }
      var h = response.headers();
      var encoding = h.get(HttpHeaderNames.CONTENT_ENCODING);
      if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
        return false;
      }
      var type = h.get(HttpHeaderNames.CONTENT_TYPE);
      if (type == null) {
        return false; // as nginx: no type, no compression
      }
      if (types != null) {
        int semi = type.indexOf(';');
        var media = (semi < 0 ? type : type.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
        if (!types.contains(media)) {
          return false;
        }
      }
      long length = HttpUtil.getContentLength(response, -1L);
      return length < 0 || length >= minLength;
    }

    @Override
    public BodyStream bodyStream(PluginContext ctx) {
      return ctx.state(this) == YES ? new GzipStream(level) : null;
    }
  }

  /** One response's gzip stream: Netty's zlib encoder, each piece sync-flushed. */
  static final class GzipStream implements BodyStream {
    private final EmbeddedChannel encoder;

    GzipStream(int level) {
      encoder = new EmbeddedChannel(ZlibCodecFactory.newZlibEncoder(ZlibWrapper.GZIP, level));
    }

    @Override
    public ByteBuf next(ByteBuf in, ByteBufAllocator alloc) {
      encoder.writeOutbound(in);
      return drain(alloc);
    }

    @Override
    public ByteBuf finish(ByteBufAllocator alloc) {
      encoder.finish();
      return drain(alloc);
    }

    @Override
    public void abort() {
      encoder.finishAndReleaseAll();
    }

    private ByteBuf drain(ByteBufAllocator alloc) {
      var out = alloc.compositeBuffer(Integer.MAX_VALUE);
      for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
        if (b.isReadable()) {
          out.addComponent(true, b);
        } else {
          b.release();
        }
      }
      return out;
    }
  }
}
