package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.archway.model.Keys.Key;
import io.archway.model.Kind;
import io.archway.model.Route;
import io.archway.model.testing.RecordingListener;
import io.archway.model.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileConfigSourceTest {

  @TempDir Path dir;
  private FileConfigSource source;

  private static final String ONE_ROUTE =
      """
      routes:
        - id: 1
          uri: /hello
          upstream:
            nodes:
              "127.0.0.1:1980": 1
            type: roundrobin
      #END
      """;

  @AfterEach
  void close() {
    if (source != null) {
      source.close();
    }
  }

  private Path write(String name, String content) throws Exception {
    return TestFiles.replaceAtomically(dir.resolve(name), content);
  }

  /** A source on {@code file}, loaded, started, and past its first delivery to {@code listener}. */
  private FileConfigSource started(Path file, RecordingListener listener) throws Exception {
    var s = source(file);
    s.load();
    s.start(listener);
    await().until(() -> listener.states() == 1);
    return s;
  }

  private FileConfigSource source(Path file) {
    source = new FileConfigSource(file, Duration.ofMillis(20));
    return source;
  }

  private static String uriOf(RecordingListener l, String id) {
    var r = (Route) l.current().get(new Key(Kind.ROUTES, id));
    return r == null ? null : r.uri();
  }

  @Test
  void consumerGroupsAndCredentialsAreReadInApisixsFormAndInTheirOwnSection() throws Exception {
    var file =
        write(
            "apisix.yaml",
            """
            consumer_groups:
              - id: gold
                plugins:
                  limit-count: {count: 10, time_window: 60}
            consumers:
              - username: jack
                group_id: gold
              - id: jack/credentials/a
                plugins:
                  key-auth: {key: key-a}
            credentials:
              - id: jack/credentials/b
                plugins:
                  key-auth: {key: key-b}
            #END
            """);
    var items = source(file).load().items();
    assertThat(items)
        .containsKeys(
            new Key(Kind.CONSUMER_GROUPS, "gold"),
            new Key(Kind.CONSUMERS, "jack"),
            new Key(Kind.CREDENTIALS, "jack/credentials/a"),
            new Key(Kind.CREDENTIALS, "jack/credentials/b"));
    var bad =
        write(
            "bad.yaml",
            """
            credentials:
              - id: b
                plugins: {}
            #END
            """);
    assertThatThrownBy(() -> source(bad).load()).hasMessageContaining("credentials/b: id: \"b\"");
  }

  @Test
  void loadsAndReloadsOnChange() throws Exception {
    var file = write("apisix.yaml", ONE_ROUTE);
    var listener = new RecordingListener();
    var s = source(file);
    assertThat(s.load().items()).hasSize(1);
    s.start(listener);
    await().until(() -> uriOf(listener, "1") != null);
    assertThat(uriOf(listener, "1")).isEqualTo("/hello");

    write("apisix.yaml", ONE_ROUTE.replace("/hello", "/changed"));
    await().until(() -> "/changed".equals(uriOf(listener, "1")));
    assertThat(s.status().revision()).isEqualTo(2);
    assertThat(s.status().lastError()).isNull();
  }

  @Test
  void aWriteWithoutEndIsIgnoredUntilCompleted() throws Exception {
    var file = write("apisix.yaml", ONE_ROUTE);
    var listener = new RecordingListener();
    var s = started(file, listener);

    var partial = ONE_ROUTE.replace("/hello", "/half-written").replace("#END\n", "");
    Files.writeString(file, partial);
    await().until(() -> s.status().lastError() != null);
    assertThat(s.status().lastError()).contains("no final #END line");
    assertThat(uriOf(listener, "1")).isEqualTo("/hello");
    assertThat(listener.states()).isEqualTo(1);

    Files.writeString(file, partial + "#END\n");
    await().until(() -> "/half-written".equals(uriOf(listener, "1")));
    assertThat(s.status().lastError()).isNull();
  }

  @Test
  void anInvalidFileKeepsThePreviousConfigAndSaysWhy() throws Exception {
    var file = write("apisix.yaml", ONE_ROUTE);
    var listener = new RecordingListener();
    var s = started(file, listener);

    write(
        "apisix.yaml",
        """
        routes:
          - id: 1
            uri: /new
            upstream_id: u
          - id: 2
            uris: [""]
            upstream_id: u
        #END
        """);
    await().until(() -> s.status().lastError() != null);
    assertThat(s.status().lastError())
        .isEqualTo(
            "1 problem(s): " + file + ": routes/2: uris[0]: \"\" (expected: starts with \"/\")");
    assertThat(s.status().invalid()).containsOnlyKeys("routes/2");
    assertThat(uriOf(listener, "1")).isEqualTo("/hello");
    assertThat(listener.current()).hasSize(1);

    write("apisix.yaml", ONE_ROUTE);
    await().until(() -> s.status().lastError() == null);
    assertThat(s.status().invalid()).isEmpty();
  }

  @Test
  void aMissingOrUnreadableFileIsAClearErrorAtStart() throws Exception {
    assertThatThrownBy(() -> source(dir.resolve("nope.yaml")).load())
        .isInstanceOf(ConfigFileException.class)
        .hasMessage(dir.resolve("nope.yaml") + ": no such file");
    source.close();
    Files.createDirectory(dir.resolve("a-dir.yaml"));
    assertThatThrownBy(() -> source(dir.resolve("a-dir.yaml")).load())
        .isInstanceOf(ConfigFileException.class)
        .hasMessageStartingWith(dir.resolve("a-dir.yaml") + ": cannot read:");
  }

  @Test
  void everyProblemOfAFileIsReportedWithFileObjectAndField() {
    var text =
        """
        routes:
          - uri: /a
            upstream_id: u
          - uri: /b
            upstream_id: u
            methods: [GIT]
          - id: 1
            uri: /dup
            upstream_id: u
        upstreams: {}
        services_typo: []
        consumers:
          - plugins: {}
        #END
        """;
    assertThatThrownBy(() -> StandaloneFile.parse(text.getBytes(), "apisix.yaml"))
        .isInstanceOfSatisfying(
            ConfigFileException.class,
            e ->
                assertThat(e.lines())
                    .containsExactlyInAnyOrder(
                        "apisix.yaml: routes[1]: methods[0]: \"GIT\" (expected: one of GET, POST, PUT,"
                            + " DELETE, PATCH, HEAD, OPTIONS, CONNECT, TRACE, PURGE)",
                        "apisix.yaml: routes/1: duplicate id \"1\" in routes",
                        "apisix.yaml: upstreams: not a list (expected: a list of objects)",
                        "apisix.yaml: services_typo: unknown section (expected one of: routes,"
                            + " upstreams, services, consumers, plugin_configs, global_rules, ssls,"
                            + " stream_routes, plugin_metadata, plugin_flows, credentials,"
                            + " consumer_groups, protos, secrets, listeners)",
                        "apisix.yaml: consumers[0]: username: missing (expected: string)"));
  }

  @Test
  void objectsWithoutIdTakeTheirPositionAndEmptyFilesAreEmptyConfigs() throws Exception {
    var items =
        StandaloneFile.parse(
            "routes:\n  - uri: /a\n    upstream_id: u\n  - uri: /b\n    upstream_id: u\n#END\n"
                .getBytes(),
            "f");
    assertThat(items).containsOnlyKeys(new Key(Kind.ROUTES, "1"), new Key(Kind.ROUTES, "2"));
    assertThat(StandaloneFile.parse("#END\n".getBytes(), "f")).isEmpty();
    assertThatThrownBy(() -> StandaloneFile.parse("routes: [\n#END\n".getBytes(), "f"))
        .hasMessageStartingWith("f: not valid YAML:");
    assertThat(StandaloneFile.hasEndMarker("a\n#END\n\n  \n")).isTrue();
    assertThat(StandaloneFile.hasEndMarker("#END\nroutes: []\n")).isFalse();
  }
}
