package io.archway.dataplane.support;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for loggers' blocking sockets that, as APISIX's, do not check the server's certificate: the
 * peer is one the operator configured, and APISIX's {@code tls: true} means encryption only.
 */
public final class TlsSockets {

  private static final SSLContext TRUST_ALL = trustAllContext();

  private TlsSockets() {}

  public static SSLSocketFactory trustAll() {
    return TRUST_ALL.getSocketFactory();
  }

  public static SSLContext trustAllContext() {
    if (TRUST_ALL != null) {
      return TRUST_ALL;
    }
    try {
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(
          null,
          new TrustManager[] {
            new X509TrustManager() {
              @Override
              public void checkClientTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public void checkServerTrusted(X509Certificate[] chain, String authType) {}

              @Override
              public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
              }
            }
          },
          null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is not available", e);
    }
  }
}
