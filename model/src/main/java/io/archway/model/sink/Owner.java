package io.archway.model.sink;

import java.util.Map;
import java.util.TreeMap;

/**
 * The custom resource an etcd item was written for. Stored in the item's {@code labels} next to
 * {@code managed-by: archway}, so the operator finds its items and never touches anyone else's.
 *
 * @param kind e.g. {@code ApisixRoute}
 * @param namespace the resource's namespace ({@code _cluster} for cluster-scoped ones)
 * @param name the resource's name
 * @param uid the resource's uid; kept for audit, not used to decide ownership (a resource deleted
 *     and created again under the same name takes its keys back)
 */
public record Owner(String kind, String namespace, String name, String uid) {

  public static final String MANAGED_BY = "managed-by";
  public static final String ARCHWAY = "archway";
  public static final String KIND = "archway.io/owner-kind";
  public static final String NAMESPACE = "archway.io/owner-namespace";
  public static final String NAME = "archway.io/owner-name";
  public static final String UID = "archway.io/owner-uid";

  public Owner {
    for (var v : new String[] {kind, namespace, name, uid}) {
      if (v == null || v.isEmpty() || v.length() > 256 || !v.matches("^\\S+$")) {
        throw new IllegalArgumentException(
            "owner: \"" + v + "\" (expected: 1 to 256 non-blank characters)");
      }
    }
  }

  /** The labels that mark an item as this owner's. */
  public Map<String, String> labels() {
    var m = new TreeMap<String, String>();
    m.put(MANAGED_BY, ARCHWAY);
    m.put(KIND, kind);
    m.put(NAMESPACE, namespace);
    m.put(NAME, name);
    m.put(UID, uid);
    return m;
  }

  /** Whether {@code labels} name this owner (kind, namespace and name). */
  public boolean owns(Map<String, String> labels) {
    return labels != null
        && ARCHWAY.equals(labels.get(MANAGED_BY))
        && kind.equals(labels.get(KIND))
        && namespace.equals(labels.get(NAMESPACE))
        && name.equals(labels.get(NAME));
  }

  /** The owner named by {@code labels}, or {@code null} when the item is not Archway's. */
  public static Owner of(Map<String, String> labels) {
    if (labels == null || !ARCHWAY.equals(labels.get(MANAGED_BY))) {
      return null;
    }
    try {
      return new Owner(labels.get(KIND), labels.get(NAMESPACE), labels.get(NAME), labels.get(UID));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return kind + " " + namespace + "/" + name;
  }
}
