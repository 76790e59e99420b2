package io.archway.model.source;

import io.archway.model.Pems;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;

/**
 * TLS to etcd, shared by the operator and the dataplane: the authorities that sign etcd's
 * certificate ({@code ca}; the JVM's when {@code null}) and a client certificate for etcd's {@code
 * --client-cert-auth} ({@code cert} and {@code key}, PEM files as a Kubernetes TLS Secret mounts
 * them). Endpoints are then {@code https://} URLs.
 */
public record EtcdTls(Path ca, Path cert, Path key) {

  public EtcdTls {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          "etcd client certificate and key go together (expected: both or neither)");
    }
  }

  /**
   * TLS from command-line or settings files, each of which may be missing ({@code null}): none of
   * them gives {@code null}. Problems are told as the options' names and the files.
   *
   * @throws IllegalArgumentException a certificate without its key (or the reverse), or a file that
   *     cannot be read
   */
  public static EtcdTls fromFiles(Path ca, Path cert, Path key) {
    if (ca == null && cert == null && key == null) {
      return null;
    }
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException(
          "--etcd-cert and --etcd-key go together (expected: both or neither)");
    }
    for (var f : new Path[] {ca, cert, key}) {
      if (f != null && !Files.isReadable(f)) {
        throw new IllegalArgumentException(f + ": no such file or not readable (etcd TLS)");
      }
    }
    return new EtcdTls(ca, cert, key);
  }

  /**
   * A user and password (when {@code user} is not {@code null}) and TLS (when {@code tls} is not)
   * on {@code builder}: how the operator's writer and the dataplane's reader both reach etcd.
   */
  public static void access(ClientBuilder builder, String user, String password, EtcdTls tls) {
    if (user != null) {
      builder
          .user(ByteSequence.from(user, StandardCharsets.UTF_8))
          .password(ByteSequence.from(password == null ? "" : password, StandardCharsets.UTF_8));
    }
    if (tls != null) {
      tls.apply(builder);
    }
  }

  /** Sets {@code builder}'s TLS; problems name the file and never quote a key. */
  public void apply(ClientBuilder builder) {
    try {
      var authorities = ca == null ? null : Pems.certificates(read(ca, "CA"));
      var chain = cert == null ? null : Pems.certificates(read(cert, "certificate"));
      var privateKey = key == null ? null : privateKey();
      builder.sslContext(
          b -> {
            if (authorities != null) {
              b.trustManager(authorities.toArray(X509Certificate[]::new));
            }
            if (chain != null) {
              b.keyManager(privateKey, chain);
            }
          });
    } catch (SSLException | GeneralSecurityException e) {
      throw new IllegalArgumentException("etcd TLS: " + e.getMessage(), e);
    }
  }

  private java.security.PrivateKey privateKey() throws GeneralSecurityException {
    try {
      return Pems.privateKey(read(key, "key"));
    } catch (GeneralSecurityException e) {
      throw new GeneralSecurityException(key + ": " + e.getMessage());
    }
  }

  private static String read(Path file, String what) throws GeneralSecurityException {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new GeneralSecurityException(
          "cannot read the " + what + " file " + file + ": " + e.getMessage());
    }
  }
}
