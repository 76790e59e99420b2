package io.archway.model;

/**
 * Checks that a certificate or key is PEM text, or a reference to a secret that holds it ({@code
 * $secret://…}, {@code $env://…}) as APISIX allows. The content is parsed where it is used.
 */
final class Pem {

  private Pem() {}

  static final Fields.Check CERTIFICATE = pem("CERTIFICATE");
  static final Fields.Check PRIVATE_KEY = pem("PRIVATE KEY");

  private static Fields.Check pem(String what) {
    return s -> {
      if (s.startsWith("$secret://") || s.startsWith("$env://")) {
        return null;
      }
      var t = s.strip();
      if (t.startsWith("-----BEGIN ") && t.contains(what) && t.contains("-----END ")) {
        return null;
      }
      return "PEM " + what.toLowerCase(java.util.Locale.ROOT) + " or $secret:// reference";
    };
  }
}
