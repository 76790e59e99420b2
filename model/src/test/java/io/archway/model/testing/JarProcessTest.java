package io.archway.model.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JarProcessTest {

  @Test
  void aLeakReportInAJarsLogIsFound(@TempDir Path dir) throws Exception {
    var log = dir.resolve("dataplane.log");
    Files.writeString(log, "2026-12-05T02:00:00.000+0000 [INFO] Servers - listening\n");
    assertThat(JarProcess.leakIn(log)).isNull();
    Files.writeString(
        log,
        "2026-12-05T02:00:01.000+0000 [ERROR] ResourceLeakDetector - LEAK: ByteBuf.release() was"
            + " not called before it's garbage-collected.\n",
        java.nio.file.StandardOpenOption.APPEND);
    assertThat(JarProcess.leakIn(log)).contains("LEAK: ByteBuf.release()");
    assertThat(JarProcess.leakIn(dir.resolve("missing.log"))).isNull();
  }
}
