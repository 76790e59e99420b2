package io.archway.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.apisix.ApisixUpstream;
import io.archway.model.testing.Ports;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Control-plane discovery from ZooKeeper through the whole path: a real ZooKeeper server (in this
 * JVM), the operator's jar run with {@code --zookeeper-connect}, a real etcd, the dataplane's jar
 * serving what the operator wrote, fabric8's mock API server for Kubernetes, and a real HTTP
 * upstream registered in ZooKeeper in apisix-seed's layout. A route written through the dataplane's
 * Admin API with {@code discovery_type: zookeeper} is seeded by the operator (its seed mode) and
 * served.
 */
class ZooKeeperToDataplaneE2E {

  @TempDir Path dir;

  static final String ADMIN_KEY = "e2e-admin-key-0123456789abcdef";

  final int adminPort = Ports.free();
  TestingServer zookeeper;
  CuratorFramework zk;
  HttpServer upstream;
  ArchwayStack stack;

  @BeforeEach
  void start() throws Exception {
    zookeeper = new TestingServer(true);
    zk = CuratorFrameworkFactory.newClient(zookeeper.getConnectString(), new RetryOneTime(100));
    zk.start();
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext(
        "/",
        ex -> {
          var body = ("hello from zookeeper " + ex.getRequestURI().getPath()).getBytes(UTF_8);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    upstream.start();
    stack =
        ArchwayStack.start(
            dir,
            new ArchwayStack.Options(
                "off",
                false,
                List.of("--admin-port", "" + adminPort, "--admin-key", ADMIN_KEY),
                List.of(
                    "--zookeeper-connect",
                    zookeeper.getConnectString(),
                    "--registry-add-delay",
                    "0.2",
                    "--registry-remove-delay",
                    "0.5")));
  }

  @AfterEach
  void stop() throws Exception {
    if (stack != null) {
      stack.close();
    }
    upstream.stop(0);
    zk.close();
    zookeeper.close();
  }

  @Test
  void nodesRegisteredInZooKeeperAreServedByTheDataplane() throws Exception {
    // Registered on an address nothing listens on: written, answered 502.
    zk.create()
        .creatingParentsIfNeeded()
        .forPath(
            "/zookeeper/APISIX-ZK",
            "[{\"host\":\"127.0.0.2\",\"port\":PORT}]"
                .replace("PORT", "" + upstream.getAddress().getPort())
                .getBytes(UTF_8));
    stack.create(
        "apiVersion: apisix.apache.org/v2\nkind: ApisixUpstream\n"
            + "metadata: {name: partner, namespace: default}\n"
            + "spec: {discovery: {type: zookeeper, serviceName: APISIX-ZK}}\n",
        ApisixUpstream.class);
    stack.create(
        """
                apiVersion: apisix.apache.org/v2
                kind: ApisixRoute
                metadata: {name: zk, namespace: default}
                spec:
                  http:
                  - name: main
                    match: {paths: [/zk*]}
                    upstreams: [{name: partner}]
                """,
        ApisixRoute.class);
    await()
        .atMost(ArchwayStack.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () -> assertThat(stack.get(stack.httpPort(), "/zk").statusCode()).isEqualTo(502));
    // The instance moves to where the upstream listens: the dataplane follows.
    zk.setData()
        .forPath(
            "/zookeeper/APISIX-ZK",
            "[{\"host\":\"127.0.0.1\",\"port\":PORT}]"
                .replace("PORT", "" + upstream.getAddress().getPort())
                .getBytes(UTF_8));
    await()
        .atMost(ArchwayStack.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(stack.get(stack.httpPort(), "/zk").body())
                    .isEqualTo("hello from zookeeper /zk"));

    // Written with APISIX's Admin API, no Kubernetes resource: the operator seeds its nodes.
    var put =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(
                            "http://127.0.0.1:" + adminPort + "/apisix/admin/routes/admin-zk"))
                    .header("X-API-KEY", ADMIN_KEY)
                    .PUT(
                        java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"uri\":\"/admin-zk\",\"upstream\":{\"type\":\"roundrobin\","
                                + "\"discovery_type\":\"zookeeper\","
                                + "\"service_name\":\"APISIX-ZK\"}}"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    await()
        .atMost(ArchwayStack.WAIT)
        .ignoreExceptions()
        .untilAsserted(
            () ->
                assertThat(stack.get(stack.httpPort(), "/admin-zk").body())
                    .isEqualTo("hello from zookeeper /admin-zk"));
  }
}
