package io.archway.operator.translate;

import io.archway.model.ConfigObject;
import io.archway.model.Keys;
import io.archway.model.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one resource translates to: the etcd items it wants, or the errors that stop it (each naming
 * the resource's field), and warnings that do not.
 */
public final class Translation {

  /** One etcd item. */
  public record Item(Kind kind, ConfigObject object) {
    public String key() {
      return Keys.item(kind, object.id());
    }
  }

  /** Why a resource is refused: what the reconciler decides on, never the message's text. */
  public enum Cause {
    /** The resource itself is wrong (a field, a reference): fixing it is its author's job. */
    INVALID,
    /**
     * An older resource serves the same host and path: the resource is fine, and is accepted once
     * the other one lets go.
     */
    CONFLICT
  }

  /**
   * What is wrong, and where in the resource: {@code spec.http[0].backends[0].serviceName}; {@code
   * cause} says of which sort it is.
   */
  public record FieldError(String field, String message, Cause cause) {

    /** A problem with the resource itself. */
    public FieldError(String field, String message) {
      this(field, message, Cause.INVALID);
    }

    @Override
    public String toString() {
      return field.isEmpty() ? message : field + ": " + message;
    }
  }

  /**
   * What does not stop the resource but its author should hear of, with the reason of the event
   * that says so ({@code Unsupported}, {@code CertificateExpired}).
   */
  public record Warning(String reason, String message) {
    static final String UNSUPPORTED = "Unsupported";

    @Override
    public String toString() {
      return message;
    }
  }

  private final List<Item> items = new ArrayList<>();
  private final List<FieldError> errors = new ArrayList<>();
  private final List<Warning> warnings = new ArrayList<>();

  private Object status;

  /**
   * The status a Gateway API translator computed (the spec's conditions, without transition times),
   * or {@code null} for the kinds whose status the reconcilers derive from the outcome.
   */
  public Object status() {
    return status;
  }

  void status(Object status) {
    this.status = status;
  }

  public List<Item> items() {
    return items;
  }

  public List<FieldError> errors() {
    return errors;
  }

  /** The warnings' messages. */
  public List<String> warnings() {
    return warnings.stream().map(Warning::message).toList();
  }

  /** The warnings with their event reasons. */
  public List<Warning> warningsWithReason() {
    return List.copyOf(warnings);
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

  /** A claim (host and path) that an older resource holds. */
  void conflict(String field, String message) {
    errors.add(new FieldError(field, message, Cause.CONFLICT));
  }

  /**
   * Why the resource is refused, when it is: {@link Cause#CONFLICT} when its only faults are claims
   * others hold (it is retried when they change), {@link Cause#INVALID} otherwise; empty when it is
   * not refused.
   */
  public Optional<Cause> refusal() {
    if (errors.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        errors.stream().allMatch(e -> e.cause() == Cause.CONFLICT)
            ? Cause.CONFLICT
            : Cause.INVALID);
  }

  /** A warning whose event reason is {@code Unsupported}. */
  void warn(String message) {
    warn(Warning.UNSUPPORTED, message);
  }

  /** A warning with its own event reason ({@code CertificateExpired}, say). */
  void warn(String reason, String message) {
    warnings.add(new Warning(reason, message));
  }

  /** Keeps {@code w}, its message given {@code context} first ({@code "upstream 'web': "}). */
  void warn(Warning w, String context) {
    warn(w.reason(), context + w.message());
  }

  /** Every error on one line each, for a status message or a CLI report. */
  public String errorMessage() {
    return String.join("; ", errors.stream().map(FieldError::toString).toList());
  }
}
