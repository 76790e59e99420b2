package io.archway.dataplane.plugins;

import io.archway.dataplane.plugin.Outcome;
import io.archway.dataplane.plugin.Plugin;
import io.archway.dataplane.plugin.Plugin.Phase;
import io.archway.dataplane.plugin.PluginContext;
import io.archway.dataplane.plugin.PluginInstance;
import io.archway.dataplane.plugin.PluginScope;
import io.archway.dataplane.plugin.PluginTraits;
import io.archway.dataplane.route.Cidr;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * real-ip: the client's address (and port) as a proxy in front reported it, in the variable {@code
 * source} ({@code http_x_forwarded_for}, {@code http_<header>}, {@code arg_<name>}, ...). Believed
 * only from the {@code trusted_addresses} when there are any. Everything after it sees that
 * address: {@code remote_addr}, ip-restriction, the limiters' keys, the access log and the {@code
 * X-Forwarded-For} sent upstream.
 *
 * <p>From {@code X-Forwarded-For} the last address is taken; with {@code recursive}, the trusted
 * addresses at the end of the list are passed over first, so the client is the rightmost address
 * that is not a trusted proxy (nginx's {@code real_ip_recursive}). A value that is not an address
 * leaves the client's address as it was.
 */
@PluginTraits(category = Plugin.Category.OTHER, dryRun = Plugin.DryRun.RUNS)
public final class RealIpPlugin implements Plugin<RealIpPlugin.Config> {

  /** The configuration; schema {@code real-ip.json}. */
  public record Config(String source, List<String> trustedAddresses, boolean recursive) {}

  @Override
  public String name() {
    return "real-ip";
  }

  @Override
  public int priority() {
    return 23000;
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
  public PluginInstance compile(Config conf, PluginScope scope) {
    var trusted = new ArrayList<Cidr>();
    if (conf.trustedAddresses() != null) {
      conf.trustedAddresses().forEach(a -> trusted.add(Cidr.parse(a)));
    }
    var source = conf.source().toLowerCase(java.util.Locale.ROOT);
    return new RealIp(
        source,
        source.equals("http_x_forwarded_for"),
        List.copyOf(trusted),
        conf.recursive() && !trusted.isEmpty());
  }

  private record RealIp(String source, boolean forwardedFor, List<Cidr> trusted, boolean recursive)
      implements PluginInstance {

    @Override
    public Outcome rewrite(PluginContext ctx) {
      if (!trusted.isEmpty() && !isTrusted(ctx.remoteAddress())) {
        return Outcome.CONTINUE;
      }
      var value = forwardedFor ? forwardedFor(ctx) : ctx.vars().get(source);
      if (value == null) {
        return Outcome.CONTINUE;
      }
      var addr = parse(value.strip());
      if (addr != null) {
        ctx.vars().clientAddress(addr.address(), addr.port());
      }
      return Outcome.CONTINUE;
    }

    /** The client's entry of X-Forwarded-For (every field of it, in order). */
    private String forwardedFor(PluginContext ctx) {
      var fields = ctx.request().headers().getAll("X-Forwarded-For");
      if (fields.isEmpty()) {
        return null;
      }
      var list = String.join(",", fields).split(",");
      int i = list.length - 1;
      if (recursive) {
        while (i > 0) {
          var a = parse(list[i].strip());
          if (a == null || !isTrusted(a.address())) {
            break;
          }
          i--;
        }
      }
      return list[i];
    }

    private boolean isTrusted(InetAddress a) {
      for (var c : trusted) {
        if (c.contains(a)) {
          return true;
        }
      }
      return false;
    }
  }

  /** An address and a port ({@code 0}: none given). */
  record Addr(InetAddress address, int port) {}

  /**
   * {@code 1.2.3.4}, {@code 1.2.3.4:80}, {@code ::1}, {@code [::1]}, {@code [::1]:80}; {@code null}
   * for anything else (names are never looked up).
   */
  static Addr parse(String s) {
    String ip = s;
    int port = 0;
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0) {
        return null;
      }
      ip = s.substring(1, close);
      var rest = s.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          return null;
        }
        port = port(rest.substring(1));
      }
    } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
      ip = s.substring(0, s.indexOf(':'));
      port = port(s.substring(s.indexOf(':') + 1));
    }
    if (port < 0) {
      return null;
    }
    var bytes = NetUtil.createByteArrayFromIpAddressString(ip);
    if (bytes == null) {
      return null;
    }
    try {
      return new Addr(InetAddress.getByAddress(bytes), port);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** A port 1..65535, or -1. */
  private static int port(String s) {
    if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    int p = Integer.parseInt(s);
    return p >= 1 && p <= 65535 ? p : -1;
  }
}
