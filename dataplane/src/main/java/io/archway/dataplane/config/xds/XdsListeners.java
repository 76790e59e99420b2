package io.archway.dataplane.config.xds;

import static io.archway.dataplane.config.xds.XdsTranslator.*;

import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.List;

/** Listeners: the HTTP connection managers and the route configurations they use. */
final class XdsListeners {

  private XdsListeners() {}

  static ListenerRoutes listener(Listener l) throws XdsException {
    var where = "listener " + q(l.getName());
    only(
        l,
        where,
        "name",
        "address",
        "filter_chains",
        "listener_filters",
        "listener_filters_timeout",
        "continue_on_listener_filters_timeout",
        "traffic_direction",
        "access_log",
        "per_connection_buffer_limit_bytes",
        "metadata",
        "stat_prefix",
        "socket_options",
        "bind_to_port");
    var rds = new ArrayList<String>();
    var inline = new ArrayList<RouteConfiguration>();
    var servers = new ArrayList<XdsTls.ServerTls>();
    boolean websocket = false;
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      var chain = l.getFilterChains(i);
      var cw = where + ": filter_chains[" + i + "]";
      only(chain, cw, "filters", "filter_chain_match", "name", "metadata", "transport_socket");
      if (chain.hasTransportSocket()) {
        // Served on Archway's HTTPS port as an ssls object for the chain's server names.
        var tls =
            XdsTls.downstream(
                chain.getTransportSocket(),
                id("xds " + l.getName() + " " + i),
                chain.getFilterChainMatch().getServerNamesList(),
                cw + ": transport_socket");
        if (tls != null) {
          servers.add(tls);
        }
      }
      for (int k = 0; k < chain.getFiltersCount(); k++) {
        var filter = chain.getFilters(k);
        var fw = cw + ": filters[" + k + "] (" + filter.getName() + ")";
        if (!HCM.equals(filter.getName())
            && !filter.getTypedConfig().getTypeUrl().endsWith(".HttpConnectionManager")) {
          throw new XdsException(
              fw + ": network filter not supported (expected: " + HCM + " only)");
        }
        var hcm = unpack(filter.getTypedConfig(), HttpConnectionManager.class, fw);
        websocket |= hcmRoutes(l.getName(), hcm, fw, rds, inline);
      }
    }
    return new ListenerRoutes(
        List.copyOf(rds), List.copyOf(inline), websocket, List.copyOf(servers));
  }

  static boolean hcmRoutes(
      String listener,
      HttpConnectionManager hcm,
      String where,
      List<String> rds,
      List<RouteConfiguration> inline)
      throws XdsException {
    switch (hcm.getRouteSpecifierCase()) {
      case RDS -> rds.add(hcm.getRds().getRouteConfigName());
      case ROUTE_CONFIG -> {
        // An inline route configuration is named after its listener, and served as RDS ones are.
        var rc = hcm.getRouteConfig();
        var name = "listener " + listener + " #" + inline.size();
        rds.add(name);
        inline.add(rc.toBuilder().setName(name).build());
      }
      default ->
          throw new XdsException(
              where
                  + ": "
                  + (hcm.hasScopedRoutes() ? "scoped_routes" : "route_specifier")
                  + " not supported (expected: rds or route_config)");
    }
    boolean routerLast = false;
    for (int i = 0; i < hcm.getHttpFiltersCount(); i++) {
      var f = hcm.getHttpFilters(i);
      var w = where + ": http_filters[" + i + "] (" + f.getName() + ")";
      routerLast = false;
      if (ROUTER.equals(f.getName())) {
        routerLast = true;
      } else if (FAULT.equals(f.getName())) {
        if (f.hasTypedConfig()) {
          var fault = unpack(f.getTypedConfig(), HTTPFault.class, w);
          if (fault.hasAbort() || fault.hasDelay()) {
            throw new XdsException(
                w + ": abort or delay on the filter itself not supported (expected: per route)");
          }
        }
      } else if (!INERT_HTTP_FILTERS.contains(f.getName())
          && !f.getIsOptional()
          && !f.getDisabled()) {
        throw new XdsException(
            w
                + ": HTTP filter not supported (expected: "
                + ROUTER
                + ", "
                + FAULT
                + ", or one of "
                + String.join(", ", new java.util.TreeSet<>(INERT_HTTP_FILTERS))
                + ")");
      }
    }
    if (!routerLast) {
      throw new XdsException(
          where + ": http_filters: " + ROUTER + " missing or not last (expected: last)");
    }
    for (var u : hcm.getUpgradeConfigsList()) {
      if (!"websocket".equalsIgnoreCase(u.getUpgradeType())) {
        throw new XdsException(
            where
                + ": upgrade_configs: "
                + q(u.getUpgradeType())
                + " not supported (expected: websocket)");
      }
    }
    return hcm.getUpgradeConfigsList().stream()
        .anyMatch(u -> !u.hasEnabled() || u.getEnabled().getValue());
  }
}
