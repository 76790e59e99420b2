package io.archway.dataplane.plugins;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.RDN;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import com.unboundid.util.ssl.SSLUtil;
import com.unboundid.util.ssl.TrustAllTrustManager;
import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.SocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ldap-auth: {@code Authorization: Basic} credentials bound against an LDAP server as {@code
 * <uid>=<user>,<base_dn>}; the consumer is the one whose {@code ldap-auth} {@code user_dn} is that
 * DN. The bind is blocking I/O, so it runs on the plugins' I/O threads and the request waits in
 * {@link Outcome.Later}; the event loop never waits for the directory. A connection per request,
 * closed after the bind (APISIX keeps a pool; binding changes a connection's identity, so a pooled
 * one would need a rebind anyway).
 */
@PluginTraits(category = Plugin.Category.AUTHENTICATION)
public final class LdapAuthPlugin implements Plugin<LdapAuthPlugin.Config> {

  private static final Logger LOG = LoggerFactory.getLogger(LdapAuthPlugin.class);

  /** APISIX's ldap timeout: 10 s to connect and for the bind's answer. */
  private static final int TIMEOUT_MILLIS = 10_000;

  private static final Outcome.Respond MISSING = missing();
  private static final Outcome.Respond INVALID_HEADER =
      Outcome.message(401, "Invalid authorization in request");
  private static final Outcome.Respond INVALID = Outcome.message(401, "Invalid user authorization");

  private static Outcome.Respond missing() {
    var r = Outcome.message(401, "Missing authorization in request");
    r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm='.'");
    return r;
  }

  /** The configuration; schema {@code ldap-auth.json}. */
  public record Config(
      String baseDn,
      String ldapUri,
      boolean useTls,
      boolean tlsVerify,
      String uid,
      String anonymousConsumer) {}

  @Override
  public String name() {
    return "ldap-auth";
  }

  @Override
  public int priority() {
    return 2540;
  }

  @Override
  public Class<Config> configType() {
    return Config.class;
  }

  @Override
  public Set<Phase> phases() {
    return EnumSet.of(Phase.REWRITE);
  }

  @Override
  public Set<String> results() {
    return Set.of("consumer");
  }

  @Override
  public String credentialField() {
    return "user_dn";
  }

  @Override
  public PluginInstance compile(Config conf, PluginScope scope) {
    var uri = conf.ldapUri().strip();
    String host;
    int port = 389;
    int colon = uri.lastIndexOf(':');
    if (uri.startsWith("[")) {
      int end = uri.indexOf(']');
      if (end < 0) {
        throw new IllegalArgumentException("ldap_uri: not host:port: " + uri);
      }
      host = uri.substring(1, end);
      colon = uri.indexOf(':', end);
    } else {
      host = colon < 0 ? uri : uri.substring(0, colon);
    }
    if (colon >= 0) {
      try {
        port = Integer.parseInt(uri.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("ldap_uri: not host:port: " + uri);
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("ldap_uri: port out of range: " + uri);
      }
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("ldap_uri: no host: " + uri);
    }
    SocketFactory sockets;
    try {
      sockets =
          !conf.useTls()
              ? SocketFactory.getDefault()
              : conf.tlsVerify()
                  ? javax.net.ssl.SSLContext.getDefault().getSocketFactory()
                  : new SSLUtil(new TrustAllTrustManager()).createSSLSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("use_tls: no TLS context: " + e.getMessage());
    }
    return new Instance(
        conf, new Directory(host, port, sockets, conf.useTls() && conf.tlsVerify()), scope);
  }

  /** Where users bind: host, port, and how to connect. */
  record Directory(String host, int port, SocketFactory sockets, boolean verifyHost) {

    /** Whether {@code dn} binds with {@code password}; blocking. */
    boolean bind(String dn, String password) throws LDAPException {
      var options = new LDAPConnectionOptions();
      options.setConnectTimeoutMillis(TIMEOUT_MILLIS);
      options.setResponseTimeoutMillis(TIMEOUT_MILLIS);
      // An empty password is an unauthenticated bind, which servers accept: never a login.
      options.setBindWithDNRequiresPassword(true);
      if (verifyHost) {
        options.setSSLSocketVerifier(new HostNameSSLSocketVerifier(false));
      }
      try (var c = new LDAPConnection(sockets, options, host, port)) {
        try {
          return c.bind(dn, password).getResultCode() == ResultCode.SUCCESS;
        } catch (LDAPException e) {
          if (e.getResultCode() == ResultCode.INVALID_CREDENTIALS) {
            return false;
          }
          throw e;
        }
      }
    }
  }

  private static final class Instance implements PluginInstance {
    private final Config conf;
    private final Directory directory;
    private final Executor io;

    Instance(Config conf, Directory directory, PluginScope scope) {
      this.conf = conf;
      this.directory = directory;
      this.io = scope.services().io();
    }

    @Override
    public Outcome rewrite(PluginContext ctx) {
      var auth = ctx.request().headers().get(HttpHeaderNames.AUTHORIZATION);
      if (auth == null) {
        return fail(ctx, MISSING);
      }
      if (auth.length() < 6 || !auth.regionMatches(true, 0, "Basic ", 0, 6)) {
        return fail(ctx, INVALID_HEADER);
      }
      String decoded;
      try {
        decoded =
            new String(
                Base64.getDecoder().decode(auth.substring(6).strip()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return fail(ctx, INVALID_HEADER);
      }
      int colon = decoded.indexOf(':');
      if (colon <= 0 || colon == decoded.length() - 1) {
        return fail(ctx, INVALID_HEADER);
      }
      var user = decoded.substring(0, colon);
      var password = decoded.substring(colon + 1);
      // The consumer is looked up by the DN as APISIX writes it; the bind escapes the user name,
      // so a name with ',' or '=' cannot bind as another entry.
      var userDn = conf.uid() + "=" + user + "," + conf.baseDn();
      var bindDn = new RDN(conf.uid(), user).toString() + "," + conf.baseDn();
      var bound =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return directory.bind(bindDn, password);
                } catch (LDAPException e) {
                  LOG.warn(
                      "ldap-auth: bind at {}:{} failed: {}",
                      directory.host(),
                      directory.port(),
                      e.getExceptionMessage());
                  return false;
                }
              },
              io);
      return Outcome.later(
          bound,
          ok -> {
            if (!ok) {
              return fail(ctx, INVALID);
            }
            var consumer = ctx.consumers().byCredential("ldap-auth", userDn);
            if (consumer == null) {
              return fail(ctx, INVALID);
            }
            ctx.consumer(consumer);
            return Outcome.CONTINUE;
          });
    }

    private Outcome fail(PluginContext ctx, Outcome.Respond failure) {
      return AnonymousConsumer.orFailure(ctx, conf.anonymousConsumer(), failure);
    }
  }
}
