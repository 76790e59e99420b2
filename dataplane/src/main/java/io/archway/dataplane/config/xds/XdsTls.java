package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Struct;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * TLS from xDS: transport sockets ({@code UpstreamTlsContext} on clusters, {@code
 * DownstreamTlsContext} on listener filter chains) and SDS secrets. A context's certificate and
 * authorities come inline or from secrets named by SDS over the ADS stream or, for clusters, from
 * Istio's agent ({@link XdsAgentSds}) ({@link Material}); the rest becomes the upstream's {@code
 * tls} (verification, {@code sni}, {@code subject_alt_names}, {@code alpn}) or an {@code ssls}
 * object for the filter chain's server names. Secrets are joined in by {@link
 * XdsTranslator#assemble}.
 */
final class XdsTls {

  static final String SECRET =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
  static final String TLS_SOCKET = "envoy.transport_sockets.tls";
  static final String RAW_SOCKET = "envoy.transport_sockets.raw_buffer";

  private static final java.util.regex.Pattern SERVER_NAME =
      java.util.regex.Pattern.compile("^(\\*\\.)?[0-9a-zA-Z_-]+(\\.[0-9a-zA-Z_-]+)*$");

  private XdsTls() {}

  /**
   * Where a context's certificate and authorities come from: a secret's name ({@code certSecret},
   * {@code caSecret}), or inline PEM ({@code cert}/{@code key}, {@code ca}); {@code null} when the
   * context has none.
   */
  record Material(String certSecret, String cert, String key, String caSecret, String ca) {

    List<String> secretNames() {
      var out = new ArrayList<String>(2);
      if (certSecret != null) {
        out.add(certSecret);
      }
      if (caSecret != null) {
        out.add(caSecret);
      }
      return out;
    }

    /** The certificate chain and key, PEM, from the secret or inline; {@code null} when none. */
    String[] certificate(Map<String, XdsSecrets.SecretPem> secrets) {
      if (certSecret != null) {
        var s = secrets.get(certSecret);
        return s.cert() == null ? null : new String[] {s.cert(), s.key()};
      }
      return cert == null ? null : new String[] {cert, key};
    }

    /** The trusted authorities, PEM, from the secret or inline; {@code null} when none. */
    String authorities(Map<String, XdsSecrets.SecretPem> secrets) {
      return caSecret != null ? secrets.get(caSecret).ca() : ca;
    }
  }

  /** A cluster's TLS: the model's {@code tls} object without the material, and the material. */
  record UpstreamTls(ObjectNode tls, Material material) {}

  /** A listener filter chain's TLS: the names served and the certificate (and client CA). */
  record ServerTls(String id, List<String> snis, Material material) {}

  // ------------------------------------------------------------------------------- upstream

  /**
   * A cluster's {@code transport_socket}: {@code null} for plaintext ({@code raw_buffer}), else its
   * {@code UpstreamTlsContext}.
   */
  static UpstreamTls upstream(TransportSocket ts, String where) throws XdsException {
    return upstream(ts, where, false);
  }

  /** As above; {@code agent}: secrets may come from Istio's agent ({@code --xds-sds}). */
  static UpstreamTls upstream(TransportSocket ts, String where, boolean agent) throws XdsException {
    if (raw(ts)) {
      return null;
    }
    tlsSocket(ts, where);
    var ctx = unpack(ts.getTypedConfig(), UpstreamTlsContext.class, where);
    only(ctx, where, "common_tls_context", "sni");
    var tls = J.objectNode();
    var common = ctx.getCommonTlsContext();
    var cw = where + ": common_tls_context";
    var material = common(common, cw, tls, agent);
    if (!ctx.getSni().isEmpty()) {
      tls.put("sni", ctx.getSni());
    }
    if (common.getAlpnProtocolsCount() > 0) {
      var alpn = tls.putArray("alpn");
      common.getAlpnProtocolsList().forEach(alpn::add);
    }
    return new UpstreamTls(tls, material);
  }

  /**
   * Istio's {@code transport_socket_matches}: TLS to the endpoints whose metadata matches (its
   * {@code tlsMode: istio}), plaintext to the rest. Served: one TLS match with string values,
   * optionally followed by plaintext ones.
   */
  static UpstreamTls matches(
      List<io.envoyproxy.envoy.config.cluster.v3.Cluster.TransportSocketMatch> matches,
      String where,
      boolean agent)
      throws XdsException {
    UpstreamTls out = null;
    for (int i = 0; i < matches.size(); i++) {
      var m = matches.get(i);
      var mw = where + ": transport_socket_matches[" + i + "] (" + m.getName() + ")";
      only(m, mw, "name", "match", "transport_socket");
      if (!agent && fromAgent(m.getTransportSocket())) {
        // Istio's auto mTLS takes the workload certificate from its agent's local SDS server
        // (cluster sds-grpc); without --xds-sds there is none: these endpoints stay plaintext
        // (they serve it under PERMISSIVE), rather than every push being refused.
        continue;
      }
      var tls = upstream(m.getTransportSocket(), mw + ": transport_socket", agent);
      if (tls == null) {
        continue;
      }
      if (out != null) {
        throw new XdsException(
            mw + ": a second TLS socket not supported (expected: one, then plaintext ones)");
      }
      var meta = metadata(m.getMatch(), mw + ": match");
      tls.tls().set("match_node_metadata", meta);
      out = tls;
    }
    return out;
  }

  private static ObjectNode metadata(Struct match, String where) throws XdsException {
    if (match.getFieldsCount() == 0) {
      throw new XdsException(
          where
              + ": empty (expected: the endpoint metadata TLS goes to, e.g. tlsMode: istio; a TLS"
              + " socket for every endpoint is the cluster's transport_socket)");
    }
    var out = J.objectNode();
    for (var e : new TreeMap<>(match.getFieldsMap()).entrySet()) {
      if (!e.getValue().hasStringValue()) {
        throw new XdsException(
            where + "." + e.getKey() + ": not a string (expected: a string value)");
      }
      out.put(e.getKey(), e.getValue().getStringValue());
    }
    return out;
  }

  /** Whether a TLS socket takes a secret from an SDS server other than ADS (Istio's agent). */
  private static boolean fromAgent(TransportSocket ts) {
    if (raw(ts) || !ts.getTypedConfig().getTypeUrl().endsWith(".UpstreamTlsContext")) {
      return false;
    }
    CommonTlsContext c;
    try {
      c = ts.getTypedConfig().unpack(UpstreamTlsContext.class).getCommonTlsContext();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return false; // refused with its reason by upstream()
    }
    var configs = new ArrayList<SdsSecretConfig>(c.getTlsCertificateSdsSecretConfigsList());
    if (c.hasValidationContextSdsSecretConfig()) {
      configs.add(c.getValidationContextSdsSecretConfig());
    }
    if (c.getCombinedValidationContext().hasValidationContextSdsSecretConfig()) {
      configs.add(c.getCombinedValidationContext().getValidationContextSdsSecretConfig());
    }
    return configs.stream().anyMatch(s -> s.hasSdsConfig() && !s.getSdsConfig().hasAds());
  }

  // ----------------------------------------------------------------------------- downstream

  /** A listener filter chain's {@code transport_socket}: {@code null} for plaintext. */
  static ServerTls downstream(TransportSocket ts, String id, List<String> serverNames, String where)
      throws XdsException {
    if (raw(ts)) {
      return null;
    }
    tlsSocket(ts, where);
    var ctx = unpack(ts.getTypedConfig(), DownstreamTlsContext.class, where);
    only(ctx, where, "common_tls_context", "require_client_certificate");
    var cw = where + ": common_tls_context";
    var probe = J.objectNode();
    var material = common(ctx.getCommonTlsContext(), cw, probe, false);
    if (material.certSecret() == null && material.cert() == null) {
      throw new XdsException(
          cw
              + ": no certificate (expected: tls_certificates or tls_certificate_sds_secret_configs)");
    }
    if (probe.has("subject_alt_names")) {
      throw new XdsException(
          cw
              + ": match_subject_alt_names: not supported on listeners (expected: unset; clients"
              + " are checked against the trusted CA only)");
    }
    if (ctx.getRequireClientCertificate().getValue()
        && material.caSecret() == null
        && material.ca() == null) {
      throw new XdsException(
          where
              + ": require_client_certificate: true without a validation context (expected: a"
              + " trusted CA to check clients against)");
    }
    if (serverNames.isEmpty()) {
      throw new XdsException(
          where.substring(0, where.lastIndexOf(':'))
              + ": filter_chain_match.server_names: empty (expected: the names the certificate"
              + " is served for; Archway picks certificates by SNI)");
    }
    for (int i = 0; i < serverNames.size(); i++) {
      var n = serverNames.get(i);
      if (n.length() > 253 || !SERVER_NAME.matcher(n).matches()) {
        throw new XdsException(
            where.substring(0, where.lastIndexOf(':'))
                + ": filter_chain_match.server_names["
                + i
                + "]: "
                + q(n)
                + " (expected: a host name, or *.suffix)");
      }
    }
    return new ServerTls(id, List.copyOf(serverNames), material);
  }

  // ---------------------------------------------------------------------------------- common

  private static boolean raw(TransportSocket ts) {
    return RAW_SOCKET.equals(ts.getName())
        || ts.getTypedConfig().getTypeUrl().endsWith(".raw_buffer.v3.RawBuffer");
  }

  private static void tlsSocket(TransportSocket ts, String where) throws XdsException {
    if (!TLS_SOCKET.equals(ts.getName())
        && !ts.getTypedConfig().getTypeUrl().endsWith("TlsContext")) {
      throw new XdsException(
          where
              + ": "
              + q(ts.getName())
              + " not supported (expected: "
              + TLS_SOCKET
              + " or "
              + RAW_SOCKET
              + ")");
    }
  }

  /**
   * Protocol versions, which istiod sets on every ISTIO_MUTUAL context (TLS 1.2 to 1.3) and on
   * gateway certificates: a range Archway's TLS (1.2 and 1.3, nothing older) can keep is taken; an
   * older maximum, and cipher suites, curves or signature algorithms, are refused.
   */
  private static void params(TlsParameters p, String where) throws XdsException {
    only(p, where, "tls_minimum_protocol_version", "tls_maximum_protocol_version");
    var max = p.getTlsMaximumProtocolVersion();
    if (max != TlsParameters.TlsProtocol.TLS_AUTO && max != TlsParameters.TlsProtocol.TLSv1_3) {
      throw new XdsException(
          where
              + ": tls_maximum_protocol_version: "
              + max
              + " not supported (expected: TLS_AUTO or TLSv1_3; Archway speaks TLS 1.2 and 1.3)");
    }
  }

  /** The material of a context; verification, names and ALPN go into {@code tls}. */
  private static Material common(CommonTlsContext c, String where, ObjectNode tls, boolean agent)
      throws XdsException {
    only(
        c,
        where,
        "tls_certificates",
        "tls_certificate_sds_secret_configs",
        "validation_context",
        "validation_context_sds_secret_config",
        "combined_validation_context",
        "alpn_protocols",
        "tls_params");
    if (c.hasTlsParams()) {
      params(c.getTlsParams(), where + ": tls_params");
    }
    String certSecret = null;
    String cert = null;
    String key = null;
    if (c.getTlsCertificatesCount() + c.getTlsCertificateSdsSecretConfigsCount() > 1) {
      throw new XdsException(
          where
              + ": tls_certificates, tls_certificate_sds_secret_configs: more than one certificate"
              + " (expected: one)");
    }
    if (c.getTlsCertificatesCount() == 1) {
      var pair = XdsSecrets.certificate(c.getTlsCertificates(0), where + ": tls_certificates[0]");
      cert = pair[0];
      key = pair[1];
    } else if (c.getTlsCertificateSdsSecretConfigsCount() == 1) {
      certSecret =
          sds(
              c.getTlsCertificateSdsSecretConfigs(0),
              where + ": tls_certificate_sds_secret_configs[0]",
              agent);
    }
    String caSecret = null;
    String ca = null;
    switch (c.getValidationContextTypeCase()) {
      case VALIDATION_CONTEXT ->
          ca = validation(c.getValidationContext(), where + ": validation_context", tls);
      case VALIDATION_CONTEXT_SDS_SECRET_CONFIG ->
          caSecret =
              sds(
                  c.getValidationContextSdsSecretConfig(),
                  where + ": validation_context_sds_secret_config",
                  agent);
      case COMBINED_VALIDATION_CONTEXT -> {
        var cv = c.getCombinedValidationContext();
        var cvw = where + ": combined_validation_context";
        only(cv, cvw, "default_validation_context", "validation_context_sds_secret_config");
        ca =
            validation(cv.getDefaultValidationContext(), cvw + ": default_validation_context", tls);
        if (cv.hasValidationContextSdsSecretConfig()) {
          caSecret =
              sds(
                  cv.getValidationContextSdsSecretConfig(),
                  cvw + ": validation_context_sds_secret_config",
                  agent);
        }
      }
      default -> {}
    }
    if (caSecret != null && ca != null) {
      throw new XdsException(
          where + ": trusted_ca both inline and from SDS (expected: one of them)");
    }
    if (caSecret != null || ca != null || tls.has("subject_alt_names")) {
      tls.put("verify", true);
    }
    return new Material(certSecret, cert, key, caSecret, ca);
  }

  /**
   * A secret's name, when it comes over the ADS stream; with {@code agent}, also from Istio's agent
   * (cluster {@code sds-grpc}), named apart ({@link XdsAgentSds#key}); else refused.
   */
  private static String sds(SdsSecretConfig s, String where, boolean agent) throws XdsException {
    only(s, where, "name", "sds_config");
    if (s.getName().isEmpty()) {
      throw new XdsException(where + ": name: empty (expected: the secret's name)");
    }
    if (agent && XdsAgentSds.isAgent(s.getSdsConfig())) {
      return XdsAgentSds.key(s.getName());
    }
    if (XdsAgentSds.isKey(s.getName())) {
      throw new XdsException(
          where
              + ": name: "
              + q(s.getName())
              + " starts with sds-grpc/ (expected: another name; the prefix is kept for the"
              + " secrets of Istio's agent)");
    }
    if (!s.hasSdsConfig() || !s.getSdsConfig().hasAds()) {
      throw new XdsException(
          where
              + ": sds_config: "
              + (s.hasSdsConfig()
                  ? s.getSdsConfig()
                      .getConfigSourceSpecifierCase()
                      .name()
                      .toLowerCase(java.util.Locale.ROOT)
                  : "unset")
              + " not supported for secret "
              + q(s.getName())
              + (agent
                  ? " (expected: ads, or Istio's agent: api_config_source of cluster sds-grpc)"
                  : " (expected: ads; for Istio's agent, cluster sds-grpc, run with --xds-sds)"));
    }
    return s.getName();
  }

  /** The inline authorities of a validation context, or {@code null}; its names go into tls. */
  private static String validation(CertificateValidationContext v, String where, ObjectNode tls)
      throws XdsException {
    only(v, where, "trusted_ca", "match_subject_alt_names", "match_typed_subject_alt_names");
    var sans = J.arrayNode();
    for (int i = 0; i < v.getMatchSubjectAltNamesCount(); i++) {
      sans.add(
          name(null, v.getMatchSubjectAltNames(i), where + ": match_subject_alt_names[" + i + "]"));
    }
    for (int i = 0; i < v.getMatchTypedSubjectAltNamesCount(); i++) {
      var m = v.getMatchTypedSubjectAltNames(i);
      var mw = where + ": match_typed_subject_alt_names[" + i + "]";
      var type =
          switch (m.getSanType()) {
            case URI -> "uri";
            case DNS -> "dns";
            case EMAIL -> "email";
            case IP_ADDRESS -> "ip";
            default ->
                throw new XdsException(
                    mw
                        + ": san_type: "
                        + m.getSanType()
                        + " not supported (expected: URI, DNS, EMAIL or IP_ADDRESS)");
          };
      sans.add(name(type, m.getMatcher(), mw + ": matcher"));
    }
    if (!sans.isEmpty()) {
      tls.set("subject_alt_names", sans);
    }
    return v.hasTrustedCa() ? XdsSecrets.authorities(v.getTrustedCa(), where) : null;
  }

  private static ObjectNode name(String type, StringMatcher m, String where) throws XdsException {
    if (m.getIgnoreCase()) {
      throw new XdsException(where + ": ignore_case: not supported (expected: false)");
    }
    var out = J.objectNode();
    if (type != null) {
      out.put("type", type);
    }
    switch (m.getMatchPatternCase()) {
      case EXACT -> out.put("exact", m.getExact());
      case PREFIX -> out.put("prefix", m.getPrefix());
      default ->
          throw new XdsException(
              where
                  + ": "
                  + m.getMatchPatternCase().name().toLowerCase(java.util.Locale.ROOT)
                  + " not supported (expected: exact or prefix)");
    }
    return out;
  }
}
