package io.archway.operator.translate;

import io.archway.model.ConfigObject;
import io.archway.model.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * What one resource translates to: the etcd items it wants, or the errors that stop it (each naming
 * the resource's field), and warnings that do not.
 */
public final class Translation {

  /** One etcd item. */
  public record Item(Kind kind, ConfigObject object) {
    public String key() {
      return kind.dir() + "/" + object.id();
    }
  }

  /** What is wrong, and where in the resource: {@code spec.http[0].backends[0].serviceName}. */
  public record FieldError(String field, String message) {
    @Override
    public String toString() {
      return field.isEmpty() ? message : field + ": " + message;
    }
  }

  private final List<Item> items = new ArrayList<>();
  private final List<FieldError> errors = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  // The event reason of a warning that has one of its own; the others are "Unsupported".
  private final java.util.Map<String, String> reasons = new java.util.HashMap<>();

  public List<Item> items() {
    return items;
  }

  public List<FieldError> errors() {
    return errors;
  }

  public List<String> warnings() {
    return warnings;
  }

  public boolean ok() {
    return errors.isEmpty();
  }

  void add(Kind kind, ConfigObject obj) {
    items.add(new Item(kind, obj));
  }

  void error(String field, String message) {
    errors.add(new FieldError(field, message));
  }

  void warn(String message) {
    warnings.add(message);
  }

  /** A warning with its own event reason ({@code CertificateExpired}, say). */
  void warn(String reason, String message) {
    warnings.add(message);
    reasons.put(message, reason);
  }

  /** The event reason of {@code warning}: its own, or {@code Unsupported}. */
  public String reason(String warning) {
    return reasons.getOrDefault(warning, "Unsupported");
  }

  /** Every error on one line each, for a status message or a CLI report. */
  public String errorMessage() {
    return String.join("; ", errors.stream().map(FieldError::toString).toList());
  }
}
