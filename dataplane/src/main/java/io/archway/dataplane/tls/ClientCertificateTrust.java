package io.archway.dataplane.tls;

import io.netty.handler.ssl.util.SimpleTrustManagerFactory;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Client certificates for mTLS: a chain the JDK's PKIX checks accept against the object's CAs
 * ({@code client.ca}), and no longer than {@code client.depth} allows. Depth counts as nginx's
 * {@code ssl_verify_depth} does: 1 (the default) takes a client certificate signed by one of the
 * CAs directly; 2 allows one intermediate between them; and so on.
 */
final class ClientCertificateTrust extends SimpleTrustManagerFactory {

  private final TrustManager[] managers;

  ClientCertificateTrust(List<X509Certificate> cas, int depth) throws GeneralSecurityException {
    var delegate = io.archway.model.Pems.trustManager(cas);
    managers = new TrustManager[] {new Limited(delegate, depth)};
  }

  @Override
  protected void engineInit(KeyStore keyStore) {}

  @Override
  protected void engineInit(ManagerFactoryParameters params) {}

  @Override
  protected TrustManager[] engineGetTrustManagers() {
    return managers.clone();
  }

  private static final class Limited extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final int depth;

    Limited(X509ExtendedTrustManager delegate, int depth) {
      this.delegate = delegate;
      this.depth = depth;
    }

    private void checkDepth(X509Certificate[] chain) throws CertificateException {
      int n = chain.length;
      // A self-signed root at the end of what the client sent is not a step of its chain.
      if (n > 1
          && chain[n - 1].getSubjectX500Principal().equals(chain[n - 1].getIssuerX500Principal())) {
        n--;
      }
      if (n > depth) {
        throw new CertificateException(
            "client certificate chain of " + n + " exceeds the verify depth " + depth);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkDepth(chain);
      delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkDepth(chain);
      delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      checkDepth(chain);
      delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      delegate.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }
}
