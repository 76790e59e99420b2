package io.archway.dataplane.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front of the HTTPS pipeline: the certificate chosen by the ClientHello's server name from the
 * certificates in force at that moment, the handshake, and what becomes of connections that never
 * complete one (counted by cause and closed, never passed on to the HTTP handlers).
 */
public final class TlsHandlers {

  private static final Logger log = LoggerFactory.getLogger(TlsHandlers.class);

  /** The certificate a connection's handshake was made with. */
  public static final AttributeKey<ServerCertificates.Entry> CERTIFICATE =
      AttributeKey.valueOf("archway.certificate");

  private TlsHandlers() {}

  /** Adds the TLS steps at the front of {@code p}. */
  public static void addTo(
      ChannelPipeline p,
      Supplier<ServerCertificates> certificates,
      TlsSettings settings,
      TlsMetrics metrics) {
    p.addLast("tls", new Selector(certificates, settings));
    p.addLast("tls-guard", new Guard(metrics));
  }

  /** Netty's SNI handler, looking names up in the certificates in force now. */
  private static final class Selector extends SniHandler {
    private final Supplier<ServerCertificates> certificates;

    Selector(Supplier<ServerCertificates> certificates, TlsSettings settings) {
      super(
          (io.netty.util.AsyncMapping<String, SslContext>)
              (name, promise) -> promise.setFailure(new IllegalStateException("unused")),
          16 * 1024,
          settings.handshakeTimeout().toMillis());
      this.certificates = certificates;
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
      // No ClientHello at all (not TLS): the default context, whose handshake then fails.
      var hello =
          clientHello == null ? new ClientHello(null, false, true) : ClientHello.parse(clientHello);
      var entry = certificates.get().select(hello.serverName());
      if (entry == null) {
        return ctx.executor().newFailedFuture(new UnknownServerName(hello.serverName()));
      }
      ctx.channel().attr(CERTIFICATE).set(entry);
      return ctx.executor().newSucceededFuture(entry.context(hello.ecdsa(), hello.rsa()));
    }

    @Override
    protected Future<SslContext> lookup(ChannelHandlerContext ctx, String hostname) {
      throw new UnsupportedOperationException("looked up from the whole ClientHello");
    }
  }

  /** Thrown (and caught by the guard) when no certificate answers a server name. */
  static final class UnknownServerName extends SSLException {
    UnknownServerName(String name) {
      super(
          name == null
              ? "no server name in the ClientHello and no default certificate"
              : "no certificate for " + name);
    }
  }

  /** Counts handshakes, and closes connections whose TLS failed before HTTP sees them. */
  private static final class Guard extends ChannelInboundHandlerAdapter {
    private final TlsMetrics metrics;
    // A failed handshake is told twice (an exception and an event): count it once.
    private boolean failed;

    Guard(TlsMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e) {
        if (e.isSuccess()) {
          metrics.handshake();
          ctx.pipeline().remove(this);
        } else {
          fail(ctx, e.cause());
        }
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(ctx, cause);
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
      if (failed) {
        return;
      }
      failed = true;
      if (!ctx.channel().isActive() && cause instanceof java.io.IOException) {
        return; // the client went away; nothing to count twice
      }
      var root =
          cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
      if (root instanceof UnknownServerName) {
        metrics.failed(TlsMetrics.Failure.unknown_sni);
        log.debug("TLS from {}: {}", ctx.channel().remoteAddress(), root.getMessage());
      } else if (root instanceof NotSslRecordException) {
        metrics.failed(TlsMetrics.Failure.not_tls);
        log.debug("TLS from {}: not a TLS record", ctx.channel().remoteAddress());
      } else if (root instanceof SslHandshakeTimeoutException) {
        metrics.failed(TlsMetrics.Failure.timeout);
      } else if (root instanceof SSLException || cause instanceof DecoderException) {
        metrics.failed(TlsMetrics.Failure.handshake);
        log.debug("TLS from {}: {}", ctx.channel().remoteAddress(), root.toString());
      } else if (!(root instanceof java.io.IOException)) {
        ctx.fireExceptionCaught(cause);
        return;
      }
      ctx.close();
    }
  }
}
