package io.archway.operator.testing;

import io.fabric8.kubernetes.client.server.mock.KubernetesAttributesExtractor;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.crud.CrudDispatcher;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * fabric8's CRUD store for the mock API server with its one-object lookup indexed by name.
 *
 * <p>The stock store finds the object a create, update, patch or status write is about by matching
 * the request's attributes against every object it holds, one request at a time: 10,000
 * ApisixRoutes took 161 s to create, so a scale benchmark measured the stand-in, not the operator.
 * This store answers the same lookups from the objects of that name (an attribute every such
 * request carries) and behaves the same otherwise: lists and watches still match every object.
 */
final class IndexedCrudDispatcher extends KubernetesCrudDispatcher {

  private final NameIndexedMap store = new NameIndexedMap();
  private final Map<AttributeSet, String> synced = Collections.synchronizedMap(store);

  IndexedCrudDispatcher() {
    super(List.of());
    try {
      // The store is a final field the base class fills itself; every write to it is a put, a
      // remove or a clear, which the indexed map sees.
      var field = CrudDispatcher.class.getDeclaredField("map");
      field.setAccessible(true);
      field.set(this, synced);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("fabric8's CRUD store has no 'map' field to index", e);
    }
  }

  @Override
  public Map.Entry<AttributeSet, String> findResource(AttributeSet attributes) {
    var name = attributes.getAttribute(KubernetesAttributesExtractor.NAME);
    if (name == null) {
      return super.findResource(attributes);
    }
    synchronized (synced) {
      for (var candidate : store.named(name.getValues().toString())) {
        if (candidate.matches(attributes)) {
          return new AbstractMap.SimpleImmutableEntry<>(candidate, store.get(candidate));
        }
      }
    }
    return null;
  }

  /** Insertion-ordered like the stock store, with the keys of each name on the side. */
  private static final class NameIndexedMap extends LinkedHashMap<AttributeSet, String> {

    private final Map<String, Set<AttributeSet>> byName = new HashMap<>();

    Set<AttributeSet> named(String name) {
      return byName.getOrDefault(name, Set.of());
    }

    @Override
    public String put(AttributeSet key, String value) {
      var name = key.getAttribute(KubernetesAttributesExtractor.NAME);
      if (name != null) {
        byName.computeIfAbsent(name.getValues().toString(), n -> new LinkedHashSet<>()).add(key);
      }
      return super.put(key, value);
    }

    @Override
    public String remove(Object key) {
      if (key instanceof AttributeSet set) {
        var name = set.getAttribute(KubernetesAttributesExtractor.NAME);
        if (name != null) {
          var keys = byName.get(name.getValues().toString());
          if (keys != null && keys.remove(set) && keys.isEmpty()) {
            byName.remove(name.getValues().toString());
          }
        }
      }
      return super.remove(key);
    }

    @Override
    public void clear() {
      byName.clear();
      super.clear();
    }
  }
}
