package io.archway.model.testing;

import io.etcd.jetcd.Client;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts a real etcd once per test class: {@code @RegisterExtension static final EtcdExtension etcd
 * = new EtcdExtension();}. Tests keep apart by using their own key prefixes.
 */
public final class EtcdExtension implements BeforeAllCallback, AfterAllCallback {

  private EtcdServer server;
  private Client client;

  @Override
  public void beforeAll(ExtensionContext context) {
    server = new EtcdServer().start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (client != null) {
      client.close();
    }
    server.close();
  }

  public EtcdServer server() {
    return server;
  }

  public String endpoint() {
    return server.endpoint();
  }

  /** A client for the test's own reads and writes. */
  public synchronized Client client() {
    if (client == null) {
      client = Client.builder().endpoints(server.endpoint()).build();
    }
    return client;
  }
}
