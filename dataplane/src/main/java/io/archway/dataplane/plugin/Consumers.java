package io.archway.dataplane.plugin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * The consumers of one config, compiled: by username, and by the credential each auth plugin looks
 * them up with ({@code key-auth}'s {@code key}, {@code basic-auth}'s {@code username}, {@code
 * jwt-auth}'s {@code key}), from the consumers' own auth plugins and their credentials.
 */
public final class Consumers {

  public static final Consumers EMPTY = new Consumers(Map.of(), Map.of());

  /**
   * One consumer as found one way: the auth plugins' configurations it was found by (its own, or
   * one of its credentials', so an auth plugin reads the secret of the credential that matched) and
   * its other plugins compiled (its group's merged under its own), which join the route's once the
   * consumer is identified. A consumer with several credentials has an entry per credential, all
   * with the same {@code username} and chain. {@code groupId} is its consumer group ({@code
   * group_id}), or {@code null}. {@code labels} are the consumer's own (attach-consumer-label
   * copies them into request fields), never {@code null}.
   */
  public record Entry(
      String username,
      Map<String, ObjectNode> credentials,
      PluginChain plugins,
      String groupId,
      Map<String, String> labels) {

    public Entry {
      labels = labels == null ? Map.of() : labels;
    }

    public Entry(String username, Map<String, ObjectNode> credentials, PluginChain plugins) {
      this(username, credentials, plugins, null, Map.of());
    }

    public Entry(
        String username, Map<String, ObjectNode> credentials, PluginChain plugins, String groupId) {
      this(username, credentials, plugins, groupId, Map.of());
    }
  }

  private final Map<String, Entry> byName;
  private final Map<String, Map<String, Entry>> byCredential;

  public Consumers(Map<String, Entry> byName, Map<String, Map<String, Entry>> byCredential) {
    this.byName = byName;
    this.byCredential = byCredential;
  }

  public Entry byName(String username) {
    return byName.get(username);
  }

  /** The consumer whose {@code plugin} credential is {@code value}, or {@code null}. */
  public Entry byCredential(String plugin, String value) {
    var m = byCredential.get(plugin);
    return m == null || value == null ? null : m.get(value);
  }

  public int size() {
    return byName.size();
  }
}
