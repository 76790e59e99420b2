package io.archway.model.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StandaloneFileTest {

  /** 10,000 routes take more than SnakeYAML's default limit of 3 MiB. */
  @Test
  void readsFilesBeyondSnakeYamlsDefaultThreeMebibytes() throws Exception {
    var yaml = new StringBuilder("routes:\n");
    int n = 0;
    while (yaml.length() < 4 * 1024 * 1024) {
      n++;
      yaml.append("  - {\"id\": \"r").append(n).append("\", \"uri\": \"/r/").append(n);
      yaml.append("\", \"upstream_id\": \"u\"}\n");
    }
    yaml.append("upstreams:\n  - {\"id\": \"u\", \"nodes\": {\"127.0.0.1:1\": 1}}\n#END\n");
    var items = StandaloneFile.parse(yaml.toString().getBytes(StandardCharsets.UTF_8), "big.yaml");
    assertThat(items).hasSize(n + 1);
  }
}
