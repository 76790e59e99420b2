package io.archway.bench;

import io.archway.model.testing.EtcdServer;
import io.archway.model.testing.JarProcess;
import io.archway.model.testing.Ports;
import io.archway.operator.testing.KubeMock;
import io.etcd.jetcd.Client;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The operator's scale row of {@link ScaleBench}: N ApisixRoutes created at once until all are
 * {@code Programmed=True}, and the operator's RSS then. The operator is its jar, as its own
 * process, with the chart's JVM options in the chart's 512 MiB limit; the API server is fabric8's
 * Kubernetes mock server in CRUD mode, in this process (no real kube-apiserver can run here), with
 * its lookups by name indexed ({@link KubeMock#indexed()}: the stock store matches every object it
 * holds on each write, which made 10,000 creates take 161 s and the row measure the stand-in); etcd
 * is real.
 */
final class ScaleOperator {

  /** The chart's {@code operator} JVM options in its {@code 512Mi} limit. */
  private static final String[] SHIPPED = {
    "-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=60", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
  };

  // The mock API server logs every request at INFO (held here: the level lives on the logger).
  private static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private ScaleOperator() {}

  static void run(Path dir, int routes, Map<String, String> rows) throws Exception {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    System.out.printf(
        "%n== operator: %d ApisixRoutes at once; API server: fabric8's Kubernetes mock server in"
            + " CRUD mode (a stand-in, lookups by name indexed), real etcd%n",
        routes);
    try (var etcd = new EtcdServer().start();
        var kube = KubeMock.indexed();
        var etcdClient = Client.builder().endpoints(etcd.endpoint()).build()) {
      var client = kube.client();
      var kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, OperatorBench.kubeconfig(client.getMasterUrl().toString()));
      OperatorBench.createWebService(client);
      int metricsPort = Ports.free();
      var log = dir.resolve("operator.log");
      var operator =
          JarProcess.start(
              Path.of("operator/target/archway-operator.jar"),
              log,
              BenchSupport.jvm(SHIPPED),
              java.util.List.of(
                  "run",
                  "--kubeconfig",
                  kubeconfig.toString(),
                  "--etcd",
                  etcd.endpoint(),
                  "--metrics-port",
                  String.valueOf(metricsPort)));
      try {
        OperatorBench.awaitReady(metricsPort);
        double cpu0 = BenchSupport.cpuSeconds(operator.pid());
        long t0 = System.nanoTime();
        OperatorBench.create(client, "default", 0, routes);
        long created = System.nanoTime();
        OperatorBench.awaitEtcd(etcdClient, "/apisix/routes/", routes);
        long inEtcd = System.nanoTime();
        OperatorBench.awaitProgrammed(client, routes);
        double secs = (System.nanoTime() - t0) / 1e9;
        long programmed = System.nanoTime();
        // The stand-in API server answers one request at a time on one thread (the creates, the
        // operator's finalizer and status writes, the watch events); the operator's CPU time is
        // its own cost.
        double cpu = BenchSupport.cpuSeconds(operator.pid()) - cpu0;
        long rss = BenchSupport.rssKb(operator.pid()) / 1024;
        System.out.printf(
            "%d ApisixRoutes: created in the API %.1f s, all in etcd %.1f s, all Programmed %.1f s"
                + " (%.1f s after the last create); operator CPU %.1f s, RSS %d MB (options %s)%n",
            routes,
            (created - t0) / 1e9,
            (inEtcd - t0) / 1e9,
            secs,
            (programmed - created) / 1e9,
            cpu,
            rss,
            String.join(" ", SHIPPED));
        rows.put(
            "operator: %,d ApisixRoutes -> all Programmed (mock API server)".formatted(routes),
            ("%.1f s (the mock's creates %.1f s; Programmed %.1f s after the last create),"
                    + " operator CPU %.1f s, RSS %d MB | < 60 s, RSS < 1 GB | %s")
                .formatted(
                    secs,
                    (created - t0) / 1e9,
                    (programmed - created) / 1e9,
                    cpu,
                    rss,
                    secs < 60 && rss < 1024));
      } finally {
        JarProcess.stop(operator);
      }
    }
  }
}
