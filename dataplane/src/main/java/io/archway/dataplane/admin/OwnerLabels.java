package io.archway.dataplane.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.archway.model.sink.Owner;
import java.util.HashMap;

/**
 * The operator's owner labels ({@link Owner}) as the Admin API sees them: an object carrying them
 * is the operator's (its resync would undo an Admin API change), and a body that sets {@code
 * managed-by: archway} would hand an Admin API object to the operator, which would then delete it
 * as an orphan. Both are refused.
 */
final class OwnerLabels {

  private OwnerLabels() {}

  /** The custom resource that owns {@code value}, or {@code null} when no operator wrote it. */
  static Owner owner(JsonNode value) {
    var labels = value == null ? null : value.get("labels");
    if (labels == null || !labels.isObject()) {
      return null;
    }
    var map = new HashMap<String, String>();
    labels.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
    return Owner.of(map);
  }

  /**
   * Why {@code body} may not be written through the Admin API, or {@code null}: it sets the label
   * that marks the operator's objects.
   */
  static String problem(JsonNode body) {
    var managedBy = body == null ? null : body.path("labels").get(Owner.MANAGED_BY);
    if (managedBy != null && Owner.ARCHWAY.equals(managedBy.asText())) {
      return "labels."
          + Owner.MANAGED_BY
          + ": \""
          + Owner.ARCHWAY
          + "\" (expected: another value; it marks objects the Archway operator owns)";
    }
    return null;
  }

  /** The Conflict message for a write to a key {@code owner} holds. */
  static String ownedMessage(String key, Owner owner) {
    return key
        + " is owned by "
        + owner
        + " (managed by the Archway operator; change the custom resource instead)";
  }
}
