package io.archway.dataplane.plugins;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Reading a configuration the schema already checked: fields with APISIX's defaults. */
final class Conf {

  private Conf() {}

  static String text(JsonNode conf, String field, String fallback) {
    var v = conf.get(field);
    return v == null || v.isNull() ? fallback : v.asText();
  }

  static int integer(JsonNode conf, String field, int fallback) {
    var v = conf.get(field);
    return v == null || !v.isNumber() ? fallback : v.intValue();
  }

  static double number(JsonNode conf, String field, double fallback) {
    var v = conf.get(field);
    return v == null || !v.isNumber() ? fallback : v.doubleValue();
  }

  static boolean bool(JsonNode conf, String field, boolean fallback) {
    var v = conf.get(field);
    return v == null || !v.isBoolean() ? fallback : v.booleanValue();
  }

  static List<String> strings(JsonNode conf, String field) {
    var out = new ArrayList<String>();
    var v = conf.get(field);
    if (v != null && v.isArray()) {
      v.forEach(x -> out.add(x.asText()));
    }
    return out;
  }

  /** limit-req and limit-conn count in this process only; shared counts are limit-count's. */
  static void localPolicyOnly(JsonNode conf) {
    var policy = text(conf, "policy", "local");
    if (!policy.equals("local")) {
      throw new IllegalArgumentException(
          "policy: \"" + policy + "\" (expected: local; shared counts are limit-count's)");
    }
  }
}
