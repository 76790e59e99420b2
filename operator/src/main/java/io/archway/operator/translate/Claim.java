package io.archway.operator.translate;

/**
 * One host + path (+ methods and match conditions) a route rule serves. Two rules of different
 * resources with equal claims and overlapping methods would shadow each other; the older resource
 * keeps it and the other is not accepted.
 *
 * @param host the host, {@code *} for any
 * @param path the path as written for the router
 * @param methods sorted methods, empty for all
 * @param discriminator the other match conditions (remote addresses, vars) and priority: rules that
 *     differ in them are told apart by the router, so they do not conflict
 * @param field the rule, e.g. {@code spec.http[0]}
 */
public record Claim(
    String host, String path, java.util.List<String> methods, String discriminator, String field) {

  public boolean conflictsWith(Claim o) {
    return host.equals(o.host)
        && path.equals(o.path)
        && discriminator.equals(o.discriminator)
        && (methods.isEmpty()
            || o.methods.isEmpty()
            || methods.stream().anyMatch(o.methods::contains));
  }

  public String describe() {
    return (host.equals("*") ? "any host" : "host " + host)
        + " path "
        + path
        + (methods.isEmpty() ? "" : " " + String.join(",", methods));
  }
}
