package io.archway.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

  private static Properties props(String... kv) {
    var p = new Properties();
    for (int i = 0; i < kv.length; i += 2) {
      p.setProperty(kv[i], kv[i + 1]);
    }
    return p;
  }

  @Test
  void theBuildFillsInVersionAndCommit() {
    var info = BuildInfo.current();
    assertThat(info.version()).isNotEqualTo(BuildInfo.UNKNOWN).doesNotContain("${");
    assertThat(info.commit()).doesNotContain("${");
  }

  @Test
  void placeholdersTheBuildCouldNotFillReadUnknown() {
    var info =
        BuildInfo.from(
            props(
                "version", "0.1.0", "commit", "${git.commit.id.abbrev}", "dirty", "${git.dirty}"));
    assertThat(info).isEqualTo(new BuildInfo("0.1.0", "unknown"));
    assertThat(BuildInfo.from(new Properties())).isEqualTo(new BuildInfo("unknown", "unknown"));
  }

  @Test
  void aDirtyWorkTreeIsSaid() {
    var info = BuildInfo.from(props("version", "0.1.0", "commit", "1a2b3c4d5e6f", "dirty", "true"));
    assertThat(info.describe("archway-dataplane"))
        .isEqualTo("archway-dataplane 0.1.0 (commit 1a2b3c4d5e6f-dirty)");
  }
}
