package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.Set;

/**
 * A plugin: the typed service-provider interface every plugin implements. Names and configuration
 * fields are APISIX's, so routes written for APISIX run unchanged.
 *
 * <p>What a plugin is made of, and nothing else needs editing to add one:
 *
 * <ul>
 *   <li>this class, in {@code io.archway.dataplane.plugins} named after the plugin ({@code real-ip}
 *       is {@code RealIpPlugin}), where the built-in plugins are found ({@link PluginSource}); a
 *       plugin elsewhere registers itself as a {@link java.util.ServiceLoader} provider of {@code
 *       Plugin};
 *   <li>its configuration, a record ({@link #configType}) with APISIX's field names (snake_case of
 *       the components, or {@code @JsonProperty});
 *   <li>its JSON Schema, {@code io/archway/model/plugins/<name>.json} in the model ({@link
 *       io.archway.model.PluginSchemas}): the defaults, the validation, the messages and the
 *       descriptions. The operator checks configurations with the same file.
 * </ul>
 *
 * <p>A configuration is checked against the schema, its defaults are filled in, it is bound to the
 * record, and then {@link #compile} turns it into a {@link PluginInstance} once per config change;
 * requests only ever see the instance.
 *
 * @param <C> the configuration record
 */
public interface Plugin<C extends Record> {

  /** The phases of a request a plugin may run in, in the order they run. */
  enum Phase {
    /**
     * Early request phase: authentication, rewriting, redirects ({@link PluginInstance#rewrite}).
     */
    REWRITE,
    /** Late request phase: limits, access rules, the upstream ({@link PluginInstance#access}). */
    ACCESS,
    /** The response's status and headers ({@link PluginInstance#headerFilter}). */
    HEADER_FILTER,
    /** The whole response body ({@link PluginInstance#bodyFilter}). */
    BODY_FILTER,
    /** After the response went out: counters, loggers ({@link PluginInstance#log}). */
    LOG
  }

  /** Where the Studio's palette shows a plugin: a small fixed set of groups. */
  enum Category {
    /** Identifies the consumer: key-auth, jwt-auth, openid-connect, ... */
    AUTHENTICATION,
    /** Refuses requests by address, header, body or policy: ip-restriction, cors, csrf, ... */
    SECURITY,
    /** Limits and routing decisions: limit-req, limit-count, traffic-split, api-breaker, ... */
    TRAFFIC,
    /** Loggers, metrics and tracing: kafka-logger, prometheus, zipkin, ... */
    OBSERVABILITY,
    /** Changes the request or the response: proxy-rewrite, response-rewrite, gzip, ... */
    TRANSFORMATION,
    /**
     * Calls a function or a model instead of (or before) the upstream: aws-lambda, ai-proxy, ...
     */
    SERVERLESS,
    /** The AI gateway's: ai-proxy, ai-prompt-template, ai-content-moderation, ... */
    AI,
    /** Everything else. */
    OTHER;

    /** The name the Admin API lists: {@code authentication}. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * What a dry-run (the Studio's trace of a plugin flow, {@link PluginContext#dryRun()}) may do
   * with a plugin. A dry-run calls no upstream and must leave no mark outside itself.
   */
  enum DryRun {
    /** It has no side effect outside the request: it runs as it would for real. */
    RUNS,
    /**
     * It has side effects and simulates them: compiled with {@link PluginScope#dryRun()} it keeps
     * its state in the instance (a rate limiter's counters, a Redis policy counted locally), and
     * with {@link PluginContext#dryRun()} set it reports what it would have done ({@link
     * DryRunTrace}) instead of doing it (a logger's entry, a delay).
     */
    SIMULATES,
    /**
     * It cannot be simulated safely (it calls another service, or changes state it cannot keep to
     * itself): a dry-run reports it as an error and never runs it.
     */
    REFUSED
  }

  /** The APISIX name, e.g. {@code key-auth}; also the name of its schema file. */
  String name();

  /**
   * The order plugins run in within a phase: higher first, APISIX's priorities (key-auth 2500,
   * limit-count 1002, ...).
   */
  int priority();

  /** The record the configuration is bound to. */
  Class<C> configType();

  /** The phases its instances run in (for listings and the Studio; every phase is still asked). */
  Set<Phase> phases();

  /**
   * The results it publishes for later plugins and for PluginFlow conditions ({@link
   * PluginContext#publish}), e.g. {@code consumer}, {@code remaining}; empty by default.
   */
  default Set<String> results() {
    return Set.of();
  }

  /**
   * The Studio palette's group for this plugin: its {@link PluginTraits#category()}, else {@link
   * Category#OTHER}.
   */
  default Category category() {
    var traits = getClass().getAnnotation(PluginTraits.class);
    return traits == null ? Category.OTHER : traits.category();
  }

  /**
   * How a dry-run treats this plugin: its {@link PluginTraits#dryRun()}, else {@link
   * DryRun#REFUSED}, so a plugin that says nothing is never run by a dry-run.
   */
  default DryRun dryRun() {
    var traits = getClass().getAnnotation(PluginTraits.class);
    return traits == null ? DryRun.REFUSED : traits.dryRun();
  }

  /**
   * Compiles a configuration its schema accepted, with the schema's defaults filled in: parses what
   * it needs (regular expressions, keys, numbers) once.
   *
   * @param conf the configuration, bound to its record
   * @param scope where it comes from and the shared services plugins may use
   * @throws IllegalArgumentException naming the field at fault and what was expected, for what the
   *     schema cannot say
   */
  PluginInstance compile(C conf, PluginScope scope);

  /**
   * For a consumer credential plugin ({@code key-auth}, {@code basic-auth}, {@code jwt-auth}): the
   * field of a consumer's configuration that identifies the consumer, unique among consumers;
   * {@code null} for every other plugin.
   */
  default String credentialField() {
    return null;
  }

  /**
   * Upstreams written inline in a configuration (traffic-split's weighted upstreams), by the key
   * the compiler builds them under, so they get pools, health checks and discovery like any; the
   * plugin finds them again with {@link PluginContext#upstream(String)}. The configuration has not
   * been checked yet: an entry that is not an object is left out.
   */
  default Map<String, JsonNode> inlineUpstreams(ObjectNode conf, String owner) {
    return Map.of();
  }

  /**
   * Called on the config thread when this plugin's {@code plugin_metadata} changes ({@code null}
   * when removed): where a plugin that runs without any route ({@code error-log-logger}) starts or
   * stops. Loggers read their metadata's {@code log_format} when they log ({@link
   * PluginServices#metadata(String)}) and need nothing here.
   *
   * @throws IllegalArgumentException naming the field at fault; the metadata is then not applied
   */
  default void metadata(ObjectNode value, PluginServices services) {}

  /** Whether {@link #inlineUpstreams} can return anything (asked once per compile). */
  default boolean hasInlineUpstreams() {
    return false;
  }
}
