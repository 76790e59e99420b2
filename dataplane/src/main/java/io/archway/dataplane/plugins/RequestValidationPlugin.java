package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import io.archway.dataplane.exchange.RequestBody;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.model.ModelJson;
import io.archway.model.UserRegex;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * request-validation: the request's headers (an object of lower-case names, a field sent more than
 * once as an array) checked against {@code header_schema}, and its body (JSON, or an {@code
 * application/x-www-form-urlencoded} form as an object) against {@code body_schema}, before it goes
 * upstream. A request that fails gets {@code rejected_code} with {@code rejected_msg}, or the
 * validator's message when there is none. The body is read whole first (up to {@link #MAX_BODY});
 * the upstream then gets the same form, or the JSON as it was checked (written again by the parser,
 * as APISIX does, so no other parser can read a different document from it).
 *
 * <p>The schemas are compiled when the configuration is: one that is not a valid JSON Schema, or
 * that refers to anything outside itself ({@code $ref} other than {@code #...}; nothing is
 * fetched), rejects the configuration.
 */
@PluginTraits(category = Plugin.Category.SECURITY, dryRun = Plugin.DryRun.RUNS)
public final class RequestValidationPlugin implements Plugin<RequestValidationPlugin.Config> {

  private static final Logger log = LoggerFactory.getLogger(RequestValidationPlugin.class);

  /** The largest body {@code body_schema} reads. */
  static final int MAX_BODY = 8 << 20;

  /**
   * The validator's registry, made the first time a route with this plugin is compiled (not when
   * the plugins are listed at start: the validator's library is ~130 classes).
   */
  private static final class Registry {
    /**
     * The schemas' {@code pattern} and {@code patternProperties} are users' regexes matched against
     * request bodies: RE2 ({@link UserRegex}, linear time), found anywhere as JSON Schema says.
     */
    static final SchemaRegistry SCHEMAS =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_7,
            b ->
                b.schemaRegistryConfig(
                    SchemaRegistryConfig.builder()
                        .regularExpressionFactory(
                            regex -> {
                              var p = UserRegex.compile("pattern", regex);
                              return value -> UserRegex.find(p, value);
                            })
                        .build()));
  }

  /** Draft-07's meta-schema, shipped in the validator's jar (nothing is fetched). */
  private static final class Meta {
    static final Schema DRAFT_7 =
        Registry.SCHEMAS.getSchema(SchemaLocation.of(SpecificationVersion.DRAFT_7.getDialectId()));
  }

  /** The configuration; schema {@code request-validation.json}. */
  public record Config(
      ObjectNode headerSchema, ObjectNode bodySchema, int rejectedCode, String rejectedMsg) {}

  @Override
  public String name() {
    return "request-validation";
  }

  @Override
  public int priority() {
    return 2800;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  /** Compiles a route's schema, refusing what is not one or reaches outside itself. */
  static Schema schema(String field, ObjectNode json) {
    if (json == null) {
      return null;
    }
    var ref = externalRef(json);
    if (ref != null) {
      throw new IllegalArgumentException(
          field + ": $ref \"" + ref + "\" (expected: a reference inside the schema, #...)");
    }
    var text = json.toString();
    var wrong = first(Meta.DRAFT_7, text);
    if (wrong != null) {
      throw new IllegalArgumentException(field + ": not a valid JSON Schema: " + wrong);
    }
    try {
      var s = Registry.SCHEMAS.getSchema(text, InputFormat.JSON);
      s.initializeValidators();
      return s;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(field + ": not a valid JSON Schema: " + e.getMessage());
    }
  }

  private static String externalRef(JsonNode n) {
    if (n.isObject()) {
      var ref = n.get("$ref");
      if (ref != null && !(ref.isTextual() && ref.textValue().startsWith("#"))) {
        return ref.asText();
      }
    }
    for (var child : n) {
      var r = externalRef(child);
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var headers = schema("header_schema", conf.headerSchema());
    var body = schema("body_schema", conf.bodySchema());
    return new PluginInstance() {
      @Override
      public Outcome rewrite(PluginContext ctx) {
        if (headers != null) {
          var err = first(headers, headerObject(ctx).toString());
          if (err != null) {
            return refuse(err);
          }
        }
        if (body == null) {
          return Outcome.CONTINUE;
        }
        return Outcome.later(ctx.body(MAX_BODY), (RequestBody.Body b) -> checkBody(ctx, b));
      }

      private Outcome checkBody(PluginContext ctx, RequestBody.Body b) {
        if (!b.ok()) {
          return Rejection.of(b.status(), null);
        }
        if (b.bytes().length == 0) {
          // APISIX: no body is refused with the message, if any.
          return Outcome.respond(conf.rejectedCode(), null, msg(null));
        }
        String json;
        var type = ctx.request().headers().get(HttpHeaderNames.CONTENT_TYPE);
        var text = new String(b.bytes(), StandardCharsets.UTF_8);
        boolean form =
            type != null
                && type.split(";", 2)[0]
                    .strip()
                    .toLowerCase(Locale.ROOT)
                    .equals("application/x-www-form-urlencoded");
        if (form) {
          json = formObject(text).toString();
        } else {
          try {
            json = ModelJson.mapper().readTree(text).toString();
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return refuse("invalid JSON body: " + e.getOriginalMessage());
          }
        }
        var err = first(body, json);
        if (err != null) {
          return refuse(err);
        }
        if (!form) {
          // The upstream gets the JSON that was checked, not a text another parser could read
          // differently (duplicate keys, say), as APISIX does.
          RequestBody.replace(ctx.exchange(), json.getBytes(StandardCharsets.UTF_8));
        }
        return Outcome.CONTINUE;
      }

      private Outcome refuse(String err) {
        log.debug("request-validation: {}", err);
        return Outcome.respond(conf.rejectedCode(), null, msg(err));
      }

      private byte[] msg(String err) {
        var m = conf.rejectedMsg() != null ? conf.rejectedMsg() : err;
        return m == null ? new byte[0] : m.getBytes(StandardCharsets.UTF_8);
      }
    };
  }

  /** The first problem of {@code json} against {@code schema}, or {@code null}. */
  static String first(Schema schema, String json) {
    var errors = schema.validate(json, InputFormat.JSON);
    return errors.isEmpty() ? null : errors.get(0).toString();
  }

  static ObjectNode headerObject(PluginContext ctx) {
    var out = ModelJson.mapper().createObjectNode();
    var h = ctx.request().headers();
    for (var name : h.names()) {
      var key = name.toLowerCase(Locale.ROOT);
      var values = h.getAll(name);
      if (values.size() == 1) {
        out.put(key, values.get(0));
      } else {
        var arr = out.putArray(key);
        values.forEach(arr::add);
      }
    }
    return out;
  }

  static ObjectNode formObject(String body) {
    var out = ModelJson.mapper().createObjectNode();
    new QueryStringDecoder(body, StandardCharsets.UTF_8, false)
        .parameters()
        .forEach(
            (k, values) -> {
              if (values.size() == 1) {
                out.put(k, values.get(0));
              } else {
                var arr = out.putArray(k);
                values.forEach(arr::add);
              }
            });
    return out;
  }
}
