package io.archway.dataplane.config;

import io.archway.dataplane.plugin.Protos;
import io.archway.model.Kind;
import io.archway.model.Proto;
import io.archway.model.source.ConfigItem;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@code protos} objects, each compiled into descriptors ({@link Protos}) when it changes,
 * never per request; one that does not compile is rejected (logged with why) and is missing for
 * grpc-transcode, whose routes naming it are then refused.
 */
final class ProtoCompiler {

  private record Cached(ConfigItem item, Protos.Compiled compiled, String error) {}

  private Map<String, Cached> cache = new HashMap<>();
  private Map<String, Protos.Compiled> compiled = Map.of();

  /** Compiles what changed; returns whether the compiled set is not the one of the last call. */
  boolean compile(Map<String, ConfigItem> items, Rejections rejections) {
    var next = new HashMap<String, Cached>(items.size() * 2);
    boolean changed = items.size() != cache.size();
    for (var e : items.entrySet()) {
      var before = cache.get(e.getKey());
      if (before != null && before.item == e.getValue()) {
        next.put(e.getKey(), before);
        if (before.compiled == null) {
          rejections.count(Kind.PROTOS, 1);
        }
        continue;
      }
      changed = true;
      var proto = (Proto) e.getValue().value();
      try {
        next.put(
            e.getKey(),
            new Cached(e.getValue(), Protos.compile(e.getKey(), proto.content()), null));
      } catch (IllegalArgumentException ex) {
        rejections.reject(Kind.PROTOS, e.getKey(), "not compiled", ex.getMessage());
        next.put(e.getKey(), new Cached(e.getValue(), null, ex.getMessage()));
      }
    }
    cache = next;
    if (changed) {
      var out = new HashMap<String, Protos.Compiled>();
      next.forEach(
          (id, c) -> {
            if (c.compiled != null) {
              out.put(id, c.compiled);
            }
          });
      compiled = Map.copyOf(out);
    }
    return changed;
  }

  Map<String, Protos.Compiled> compiled() {
    return compiled;
  }
}
