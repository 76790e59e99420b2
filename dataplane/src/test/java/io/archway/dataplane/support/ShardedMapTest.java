package io.archway.dataplane.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The sharded map against a {@link HashMap} given the same edits: random puts and removes that grow
 * it past several reshards and shrink it back, each edit batch leaving the map it started from as
 * it was.
 */
class ShardedMapTest {

  @Test
  void editsGiveTheSameMapAsAHashMapAndLeaveTheBaseAlone() {
    var rnd = new Random(7);
    var expected = new HashMap<String, Integer>();
    var map = ShardedMap.<String, Integer>empty();
    for (int batch = 0; batch < 400; batch++) {
      var before = new HashMap<>(expected);
      var base = map;
      var editor = map.edit();
      // Grow for the first half, shrink for the second.
      int n = 1 + rnd.nextInt(60);
      for (int k = 0; k < n; k++) {
        var key = "k" + rnd.nextInt(batch < 200 ? 20_000 : 500);
        if (rnd.nextInt(batch < 200 ? 5 : 2) == 0) {
          editor.remove(key);
          expected.remove(key);
        } else {
          editor.put(key, batch);
          expected.put(key, batch);
        }
        assertThat(editor.get(key)).isEqualTo(expected.get(key));
      }
      map = editor.build();
      assertThat(map).as("batch %d", batch).isEqualTo(expected).hasSize(expected.size());
      assertThat(base).as("base of batch %d", batch).isEqualTo(before);
    }
    for (int i = 0; i < 20_000; i++) {
      var key = "k" + i;
      assertThat(map.get(key)).isEqualTo(expected.get(key));
      assertThat(map.containsKey(key)).isEqualTo(expected.containsKey(key));
    }
    var seen = new HashMap<String, Integer>();
    map.forEach(seen::put);
    assertThat(seen).isEqualTo(expected);
  }

  @Test
  void isReadOnly() {
    var map = ShardedMap.copyOf(Map.of("a", 1, "b", 2));
    assertThat(map.getOrDefault("c", 3)).isEqualTo(3);
    assertThatThrownBy(() -> map.put("c", 3)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.entrySet().iterator().next().setValue(5))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.keySet().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    var editor = map.edit();
    editor.build();
    assertThatThrownBy(() -> editor.put("c", 3)).isInstanceOf(IllegalStateException.class);
    assertThat(map).containsOnlyKeys("a", "b");
  }
}
