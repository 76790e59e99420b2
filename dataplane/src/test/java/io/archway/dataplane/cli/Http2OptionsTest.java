package io.archway.dataplane.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.archway.dataplane.http2.H2Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2's settings: the {@code http2:} section of the settings file and {@code --h2c}. */
class Http2OptionsTest {

  @TempDir Path dir;

  @Test
  void h2OnTlsByDefaultH2cOnlyWhenAskedFor() throws Exception {
    assertThat(DataplaneCommand.parse().http2()).isEqualTo(H2Settings.DEFAULTS);
    assertThat(DataplaneCommand.parse().http2().tls()).isTrue();
    assertThat(DataplaneCommand.parse().http2().h2c()).isFalse();
    assertThat(DataplaneCommand.parse("--h2c").http2().h2c()).isTrue();
    assertThat(DataplaneCommand.usage()).contains("--h2c ");
  }

  @Test
  void theSettingsFileSetsEveryLimit() throws Exception {
    var file = dir.resolve("s.yaml");
    Files.writeString(
        file,
        """
        http2:
          tls: false
          h2c: true
          max_concurrent_streams: 64
          max_header_list_size: 16k
          initial_window_size: 1m
          max_frame_size: 32k
          max_resets: 50
          reset_window: 10
          max_control_frames: 300
          max_queued_control_frames: 500
        """);
    var h2 = DataplaneCommand.parse("--config", file.toString()).http2();
    assertThat(h2)
        .isEqualTo(
            new H2Settings(
                false,
                true,
                64,
                16 * 1024,
                1 << 20,
                32 * 1024,
                50,
                Duration.ofSeconds(10),
                300,
                500));
  }

  @Test
  void badValuesNameTheField() throws Exception {
    var file = dir.resolve("bad.yaml");
    Files.writeString(file, "http2:\n  h2c: yes please\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(file + ": http2.h2c: \"yes please\" (expected: true or false)");
    Files.writeString(file, "http2:\n  max_frame_size: 1k\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessage(file + ": http2.max_frame_size: 1024 (expected: 16384 to 16777215)");
    Files.writeString(file, "http2:\n  streams: 3\n");
    assertThatThrownBy(() -> DataplaneCommand.parse("--config", file.toString()))
        .hasMessageStartingWith(file + ": http2.streams: unknown setting (expected one of: h2c,");
  }
}
