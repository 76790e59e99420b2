package io.archway.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads config objects from JSON (validating them) and writes them back in APISIX's format: snake
 * case names, absent fields left out, whole numbers written without a fraction.
 */
public final class ModelJson {

  /*
   * Field-name canonicalization is off: config objects use unbounded, unique names as keys (node
   * addresses, label keys), which grow Jackson's shared symbol table until every parser spends its
   * time copying it (measured: 80% of a 10,000-route load).
   */
  private static final ObjectMapper MAPPER =
      JsonMapper.builder(
              JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build())
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .addModule(new SimpleModule().addSerializer(Double.class, new WholeDoubleSerializer()))
          .build();

  private ModelJson() {}

  /** The mapper configured for the model; do not reconfigure it. */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * Validates {@code json} as an object of {@code kind} and returns it.
   *
   * @param idFromKey the id the object's key gives it, used when the value has none and checked
   *     against the value's when both are there; {@code null} when there is no key (a file entry)
   * @param where names the object in problems, e.g. {@code routes/7}
   * @throws ValidationException with every problem found
   */
  public static ConfigObject read(Kind kind, JsonNode json, String idFromKey, String where)
      throws ValidationException {
    // The records keep parts of the tree; copy it once so the caller's tree stays theirs.
    return readOwned(kind, json == null ? null : json.deepCopy(), idFromKey, where);
  }

  private static ConfigObject readOwned(Kind kind, JsonNode json, String idFromKey, String where)
      throws ValidationException {
    var problems = new ArrayList<Problem>();
    var node = json;
    if (idFromKey != null && json != null && json.isObject()) {
      var given = json.get(kind.idField());
      if (given == null || given.isNull() || sameCredential(kind, idFromKey, given)) {
        node = ((ObjectNode) json).put(kind.idField(), idFromKey);
      } else if (!idFromKey.equals(given.isTextual() ? given.textValue() : given.toString())) {
        problems.add(
            new Problem(
                kind.idField(),
                Fields.show(given) + " (expected: \"" + idFromKey + "\", the id in the key)"));
      }
    }
    var f = Fields.of(node, "", problems);
    var obj = kind.reader().apply(f, "");
    f.finish();
    if (kind != Kind.CONSUMERS
        && kind != Kind.PLUGIN_METADATA
        && idFromKey != null
        && obj != null
        && obj.id() == null
        && problems.isEmpty()) {
      problems.add(new Problem("id", "missing"));
    }
    if (!problems.isEmpty() || obj == null) {
      throw new ValidationException(
          where, problems.isEmpty() ? List.of(new Problem("", "invalid")) : problems);
    }
    return obj;
  }

  /**
   * A credential's value names itself by its last part ({@code c1}, as the Admin API stores it) or
   * by its whole id ({@code jack/credentials/c1}, as APISIX's standalone file lists it); its key
   * gives the whole id.
   */
  private static boolean sameCredential(Kind kind, String idFromKey, JsonNode given) {
    // A secret manager's value, as the Admin API stores it, names itself by its last part too.
    if (kind == Kind.SECRETS) {
      var last = given.isTextual() ? given.textValue() : given.toString();
      return idFromKey.endsWith("/" + last);
    }
    return kind == Kind.CREDENTIALS
        && given.isTextual()
        && idFromKey.endsWith("/credentials/" + given.textValue());
  }

  /** Parses and validates; a value that is not JSON is one problem. */
  public static ConfigObject read(Kind kind, byte[] json, String idFromKey, String where)
      throws ValidationException {
    JsonNode node;
    try {
      node = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new ValidationException(
          where, List.of(new Problem("", "not JSON (" + Messages.firstLine(e.getMessage()) + ")")));
    }
    return readOwned(kind, node, idFromKey, where);
  }

  public static JsonNode toTree(ConfigObject obj) {
    return MAPPER.valueToTree(obj);
  }

  public static byte[] toBytes(ConfigObject obj) {
    try {
      return MAPPER.writeValueAsBytes(obj);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + obj.getClass().getSimpleName(), e);
    }
  }

  /** {@code 6.0} is written {@code 6}, as the user most likely wrote it. */
  private static final class WholeDoubleSerializer extends StdSerializer<Double> {
    WholeDoubleSerializer() {
      super(Double.class);
    }

    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      double d = value;
      if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15) {
        gen.writeNumber((long) d);
      } else {
        gen.writeNumber(d);
      }
    }
  }
}
