package io.archway.dataplane.http;

import io.archway.dataplane.tls.TlsHandlers;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLPeerUnverifiedException;

/** Client certificates asked for per path (the certificate entry's {@code client} settings). */
final class ClientCertificates {

  private ClientCertificates() {}

  /**
   * Whether the TLS connection at {@code ctx} may request {@code path}: its certificate entry asks
   * for no client certificate there, or the client showed one.
   */
  static boolean admit(ChannelHandlerContext ctx, String path) {
    var entry = ctx.channel().attr(TlsHandlers.CERTIFICATE).get();
    if (entry == null || !entry.clientCertificates() || entry.admits(path)) {
      return true;
    }
    var tls = ctx.pipeline().get(SslHandler.class);
    try {
      return tls != null && tls.engine().getSession().getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }
}
