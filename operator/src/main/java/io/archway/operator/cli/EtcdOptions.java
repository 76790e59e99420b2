package io.archway.operator.cli;

import io.archway.model.Keys;
import io.archway.model.sink.EtcdConfigSink;
import io.archway.model.source.EtcdConfigSource;
import io.archway.model.source.EtcdTls;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The etcd options {@code run} and {@code seed} share: where etcd is and how to reach it. */
final class EtcdOptions {

  @Option(
      names = "--etcd",
      paramLabel = "URL[,URL...]",
      description = "etcd endpoints (default: http://127.0.0.1:2379)")
  String etcd = "http://127.0.0.1:2379";

  @Option(
      names = "--prefix",
      paramLabel = "PREFIX",
      description = "etcd key prefix (default: /apisix)")
  String prefix = Keys.DEFAULT_PREFIX;

  @Option(
      names = "--etcd-user",
      paramLabel = "USER",
      description =
          "etcd user (or ARCHWAY_ETCD_USER); the password from --etcd-password or"
              + " ARCHWAY_ETCD_PASSWORD")
  String etcdUser = System.getenv("ARCHWAY_ETCD_USER");

  @Option(names = "--etcd-password", paramLabel = "PASS", description = "etcd password")
  String etcdPassword = System.getenv("ARCHWAY_ETCD_PASSWORD");

  @Option(
      names = "--etcd-ca",
      paramLabel = "FILE",
      description = "CA certificates (PEM) that sign etcd's, for https:// endpoints")
  String etcdCa;

  @Option(
      names = "--etcd-cert",
      paramLabel = "FILE",
      description = "client certificate (PEM) for etcd's --client-cert-auth")
  String etcdCert;

  @Option(names = "--etcd-key", paramLabel = "FILE", description = "its private key (PEM)")
  String etcdKey;

  List<String> endpoints() {
    return List.of(etcd.split(","));
  }

  /** Checks the options; a usage error names the one at fault. */
  void check() throws UsageException {
    try {
      Keys.of(prefix);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--prefix: " + e.getMessage());
    }
    tls();
  }

  /** A writer to etcd under the prefix. */
  EtcdConfigSink sink() throws UsageException {
    try {
      return EtcdConfigSink.connect(endpoints(), prefix, etcdUser, etcdPassword, tls());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** The settings of a watch on the prefix. */
  EtcdConfigSource.Settings source() throws UsageException {
    try {
      return EtcdConfigSource.Settings.of(endpoints(), prefix)
          .withAuth(etcdUser, etcdPassword)
          .withTls(tls());
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** TLS to etcd from --etcd-ca, --etcd-cert and --etcd-key; {@code null} when none is given. */
  EtcdTls tls() throws UsageException {
    try {
      return EtcdTls.fromFiles(
          etcdCa == null ? null : Path.of(etcdCa),
          etcdCert == null ? null : Path.of(etcdCert),
          etcdKey == null ? null : Path.of(etcdKey));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }
}
