package io.archway.crds;

import java.util.Arrays;
import java.util.List;

/**
 * The closed sets of values some fields take. The fields stay strings in the Java types, so a
 * resource with a bad value still reads and gets a status naming the field; these enums give the
 * CRD schema its {@code enum} lists (through {@code @SchemaFrom}) and the translators their checks.
 * Constants are spelled exactly as the JSON values are, which is why they break Java's naming
 * style.
 */
public final class Enums {

  private Enums() {}

  /** The JSON spellings of an enum's constants. */
  public static List<String> values(Class<? extends Enum<?>> type) {
    return Arrays.stream(type.getEnumConstants()).map(Enum::name).toList();
  }

  /** {@code one of a, b, c}: what a message expects of a field of this set. */
  public static String oneOf(Class<? extends Enum<?>> type) {
    return "one of " + String.join(", ", values(type));
  }

  public static boolean isOneOf(Class<? extends Enum<?>> type, String v) {
    return v != null && values(type).contains(v);
  }

  public enum ExprScope {
    Header,
    Query,
    Cookie,
    Path,
    PostArg,
    Variable,
    Body
  }

  public enum ExprOp {
    Equal,
    NotEqual,
    GreaterThan,
    GreaterThanEqual,
    LessThan,
    LessThanEqual,
    In,
    NotIn,
    RegexMatch,
    RegexNotMatch,
    RegexMatchCaseInsensitive,
    RegexNotMatchCaseInsensitive
  }

  /**
   * {@code endpoints} is the same as {@code endpoint}: the APISIX Ingress Controller documents it
   * for http backends (whose schema there has no enum) and reads anything but {@code service} as
   * the pods.
   */
  public enum ResolveGranularity {
    endpoint,
    endpoints,
    service
  }

  public enum HttpMethod {
    GET,
    POST,
    PUT,
    DELETE,
    PATCH,
    HEAD,
    OPTIONS,
    CONNECT,
    TRACE,
    PURGE
  }

  public enum AuthType {
    basicAuth,
    keyAuth,
    jwtAuth,
    wolfRBAC,
    hmacAuth,
    ldapAuth
  }

  public enum StreamProtocol {
    TCP,
    UDP
  }

  public enum LoadBalancer {
    roundrobin,
    chash,
    ewma,
    least_conn
  }

  public enum HashOn {
    vars,
    header,
    cookie,
    consumer,
    vars_combinations
  }

  public enum Scheme {
    http,
    https,
    grpc,
    grpcs,
    kafka,
    tls
  }

  public enum PassHost {
    pass,
    node,
    rewrite
  }

  public enum HealthCheckType {
    http,
    https,
    tcp
  }

  public enum ExternalNodeType {
    Domain,
    Service
  }

  public enum StreamRouteProtocol {
    tcp,
    redis
  }

  /** The Service types a GatewayParameters' {@code service.type} takes. */
  public enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer
  }

  /** A Service's {@code externalTrafficPolicy}. */
  public enum ExternalTrafficPolicy {
    Cluster,
    Local
  }
}
