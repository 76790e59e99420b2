package io.archway.operator.translate;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Deterministic etcd ids for what a resource produces: the same resource always writes the same
 * keys, so updates overwrite in place and a restarted operator recognises its own keys. Readable
 * when they fit ({@code ar_default_httpbin_rule1}); over APISIX's 64-character limit the tail is
 * replaced by a hash of the whole.
 */
public final class Ids {

  private static final Pattern ID = Pattern.compile("^[a-zA-Z0-9-_.]{1,64}$");
  private static final int MAX = 64;
  private static final int HASH_HEX = 16;

  private Ids() {}

  /**
   * {@code parts} joined by {@code _}. Kubernetes names never contain {@code _}, so two different
   * part lists never give the same id.
   */
  public static String of(String... parts) {
    var joined = String.join("_", parts);
    if (joined.length() <= MAX && ID.matcher(joined).matches()) {
      return joined;
    }
    var hash = hash(joined);
    var readable = joined.replaceAll("[^a-zA-Z0-9-_.]", "-");
    return readable.substring(0, Math.min(readable.length(), MAX - HASH_HEX - 1)) + "_" + hash;
  }

  /** The first 16 hex digits of the SHA-256 of {@code s}. */
  public static String hash(String s) {
    try {
      var digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, HASH_HEX);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
