package io.archway.operator.reconciler;

import io.archway.crds.Plugin;
import io.archway.crds.apisix.ApisixRoute;
import io.archway.crds.archway.PluginFlow;
import io.archway.crds.archway.StreamRoute;
import io.archway.operator.translate.GatewayParametersTranslator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a resource's translation reads besides itself, as {@code Kind/namespace/name}: when one of
 * those changes, the resource is reconciled again.
 */
final class References {

  private References() {}

  static String key(HasMetadata r) {
    return key(r.getKind(), r.getMetadata().getNamespace(), r.getMetadata().getName());
  }

  static String key(String kind, String ns, String name) {
    return kind + "/" + ns + "/" + name;
  }

  static Set<String> of(HasMetadata r) {
    var ns = r.getMetadata().getNamespace();
    var out = new HashSet<String>();
    switch (r) {
      case ApisixRoute ar when ar.getSpec() != null -> {
        if (ar.getSpec().http != null) {
          for (var rule : ar.getSpec().http) {
            if (rule.backends != null) {
              rule.backends.forEach(b -> service(out, ns, b.serviceName));
            }
            if (rule.upstreams != null) {
              rule.upstreams.forEach(u -> out.add(key("ApisixUpstream", ns, u.name)));
            }
            if (rule.pluginFlow != null) {
              out.add(key("PluginFlow", ns, rule.pluginFlow));
            }
            if (rule.pluginConfigName != null) {
              var pcNs =
                  rule.pluginConfigNamespace == null || rule.pluginConfigNamespace.isEmpty()
                      ? ns
                      : rule.pluginConfigNamespace;
              out.add(key("ApisixPluginConfig", pcNs, rule.pluginConfigName));
            }
            secrets(out, ns, rule.plugins);
          }
        }
        if (ar.getSpec().stream != null) {
          for (var rule : ar.getSpec().stream) {
            if (rule.backend != null) {
              service(out, ns, rule.backend.serviceName);
            }
            secrets(out, ns, rule.plugins);
          }
        }
      }
      case StreamRoute sr when sr.getSpec() != null && sr.getSpec().backend != null ->
          service(out, ns, sr.getSpec().backend.serviceName);
      case PluginFlow pf when pf.getSpec() != null && pf.getSpec().nodes != null ->
          pf.getSpec().nodes.forEach(n -> secret(out, ns, n.secretRef));
      case io.archway.crds.apisix.ApisixUpstream au
          when au.getSpec() != null && au.getSpec().tlsSecret != null -> {
        var ref = au.getSpec().tlsSecret;
        secret(out, ref.namespace == null ? ns : ref.namespace, ref.name);
      }
      case io.archway.crds.apisix.ApisixTls tls when tls.getSpec() != null -> {
        var spec = tls.getSpec();
        if (spec.secret != null) {
          secret(out, spec.secret.namespace == null ? ns : spec.secret.namespace, spec.secret.name);
        }
        if (spec.client != null && spec.client.caSecret != null) {
          var ca = spec.client.caSecret;
          secret(out, ca.namespace == null ? ns : ca.namespace, ca.name);
        }
      }
      case io.archway.crds.apisix.ApisixConsumer c
          when c.getSpec() != null && c.getSpec().authParameter != null -> {
        var a = c.getSpec().authParameter;
        for (var creds :
            new io.archway.crds.apisix.ApisixConsumerSpec.Credentials[] {
              a.keyAuth, a.basicAuth, a.jwtAuth, a.hmacAuth, a.ldapAuth, a.wolfRBAC
            }) {
          if (creds != null && creds.secretRef != null) {
            secret(out, ns, creds.secretRef.name);
          }
        }
        secrets(out, ns, c.getSpec().plugins);
      }
      case io.archway.crds.apisix.v1alpha1.PluginConfig pc when pc.getSpec() != null ->
          secrets(out, ns, pc.getSpec().plugins);
      case io.archway.crds.apisix.v1alpha1.Consumer c when c.getSpec() != null -> {
        secrets(out, ns, c.getSpec().plugins);
        if (c.getSpec().credentials != null) {
          for (var cred : c.getSpec().credentials) {
            if (cred != null && cred.secretRef != null) {
              var s = cred.secretRef;
              secret(out, s.namespace == null ? ns : s.namespace, s.name);
            }
          }
        }
      }
      case io.archway.crds.apisix.ApisixPluginConfig pc when pc.getSpec() != null ->
          secrets(out, ns, pc.getSpec().plugins);
      case io.archway.crds.apisix.ApisixGlobalRule gr when gr.getSpec() != null ->
          secrets(out, ns, gr.getSpec().plugins);
      case Ingress ing when ing.getSpec() != null -> {
        if (ing.getSpec().getTls() != null) {
          ing.getSpec().getTls().forEach(tls -> secret(out, ns, tls.getSecretName()));
        }
        var ann = ing.getMetadata().getAnnotations();
        var prefix = io.archway.operator.translate.IngressTranslator.ANNOTATION_PREFIX;
        if (ann != null && ann.get(prefix + "plugin-config-name") != null) {
          // Either kind may carry the name (an ApisixPluginConfig is looked for first).
          var pcName = ann.get(prefix + "plugin-config-name").trim();
          out.add(key("ApisixPluginConfig", ns, pcName));
          out.add(key("PluginConfig", ns, pcName));
        }
        // The backends' Services are in svc-namespace when it is set.
        var svcNs =
            ann == null || ann.get(prefix + "svc-namespace") == null
                ? ns
                : ann.get(prefix + "svc-namespace").trim();
        if (ing.getSpec().getDefaultBackend() != null
            && ing.getSpec().getDefaultBackend().getService() != null) {
          service(out, svcNs, ing.getSpec().getDefaultBackend().getService().getName());
        }
        if (ing.getSpec().getRules() != null) {
          for (var rule : ing.getSpec().getRules()) {
            if (rule.getHttp() != null && rule.getHttp().getPaths() != null) {
              for (var p : rule.getHttp().getPaths()) {
                if (p.getBackend() != null && p.getBackend().getService() != null) {
                  service(out, svcNs, p.getBackend().getService().getName());
                }
              }
            }
          }
        }
      }
      case io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute hr when hr.getSpec() != null ->
          httpRoute(out, ns, hr.getSpec());
      case io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute gr when gr.getSpec() != null ->
          // The HTTPRoute it is translated as: the same parents, backends and filters.
          httpRoute(
              out, ns, io.archway.operator.translate.GRPCRouteTranslator.asHttpRoute(gr).getSpec());
      case io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TLSRoute tr
          when tr.getSpec() != null -> {
        parents(out, ns, tr.getSpec().getParentRefs());
        if (tr.getSpec().getRules() != null) {
          tr.getSpec().getRules().forEach(rule -> l4Backends(out, ns, rule.getBackendRefs()));
        }
      }
      case io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.TCPRoute tr
          when tr.getSpec() != null -> {
        parents(out, ns, tr.getSpec().getParentRefs());
        if (tr.getSpec().getRules() != null) {
          tr.getSpec().getRules().forEach(rule -> l4Backends(out, ns, rule.getBackendRefs()));
        }
      }
      case io.fabric8.kubernetes.api.model.gatewayapi.v1alpha2.UDPRoute ur
          when ur.getSpec() != null -> {
        parents(out, ns, ur.getSpec().getParentRefs());
        if (ur.getSpec().getRules() != null) {
          ur.getSpec().getRules().forEach(rule -> l4Backends(out, ns, rule.getBackendRefs()));
        }
      }
      case io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass gc
          when gc.getSpec() != null && gc.getSpec().getParametersRef() != null -> {
        var p = gc.getSpec().getParametersRef();
        if (GatewayParametersTranslator.names(p.getGroup(), p.getKind())
            && p.getNamespace() != null) {
          out.add(key(GatewayParametersTranslator.KIND, p.getNamespace(), p.getName()));
        }
      }
      case io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway gw
          when gw.getSpec() != null
              && gw.getSpec().getInfrastructure() != null
              && gw.getSpec().getInfrastructure().getParametersRef() != null -> {
        var p = gw.getSpec().getInfrastructure().getParametersRef();
        out.add(key(GatewayParametersTranslator.KIND, ns, p.getName()));
      }
      default -> {}
    }
    return out;
  }

  /**
   * An HTTPRoute (or a GRPCRoute, as the HTTPRoute it is translated as) reads its parent Gateways,
   * its backends' Services (in their namespaces), those of its RequestMirror filters, and the
   * ApisixPluginConfigs and PluginFlows of its ExtensionRef filters.
   */
  private static void httpRoute(
      Set<String> out,
      String ns,
      io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpec spec) {
    parents(out, ns, spec.getParentRefs());
    if (spec.getRules() == null) {
      return;
    }
    for (var rule : spec.getRules()) {
      if (rule == null) {
        continue;
      }
      var filters =
          new java.util.ArrayList<io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter>();
      if (rule.getFilters() != null) {
        filters.addAll(rule.getFilters());
      }
      if (rule.getBackendRefs() != null) {
        for (var b : rule.getBackendRefs()) {
          if (b == null) {
            continue;
          }
          if ((b.getGroup() == null || b.getGroup().isEmpty())
              && (b.getKind() == null || "Service".equals(b.getKind()))) {
            service(
                out,
                b.getNamespace() == null || b.getNamespace().isEmpty() ? ns : b.getNamespace(),
                b.getName());
          }
          if (b.getFilters() != null) {
            filters.addAll(b.getFilters());
          }
        }
      }
      for (var f : filters) {
        if (f == null) {
          continue;
        }
        var m = f.getRequestMirror();
        if (m != null && m.getBackendRef() != null) {
          var b = m.getBackendRef();
          service(
              out,
              b.getNamespace() == null || b.getNamespace().isEmpty() ? ns : b.getNamespace(),
              b.getName());
        }
        var e = f.getExtensionRef();
        if (e != null && e.getName() != null) {
          if ("ApisixPluginConfig".equals(e.getKind())) {
            out.add(key("ApisixPluginConfig", ns, e.getName()));
          } else if ("PluginFlow".equals(e.getKind())) {
            out.add(key("PluginFlow", ns, e.getName()));
          }
        }
      }
    }
  }

  /** A route reads the Gateways its parentRefs name. */
  private static void parents(
      Set<String> out,
      String ns,
      List<io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference> parentRefs) {
    if (parentRefs != null) {
      for (var p : parentRefs) {
        if (p != null
            && p.getName() != null
            && io.archway.operator.translate.ListenerAttachment.isGateway(p)) {
          out.add(
              key(
                  "Gateway",
                  io.archway.operator.translate.ListenerAttachment.namespace(p, ns),
                  p.getName()));
        }
      }
    }
  }

  /** An L4 route (TLSRoute, TCPRoute, UDPRoute) reads its backends' Services. */
  private static void l4Backends(
      Set<String> out,
      String ns,
      List<io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef> backendRefs) {
    if (backendRefs == null) {
      return;
    }
    for (var b : backendRefs) {
      if (b != null
          && (b.getGroup() == null || b.getGroup().isEmpty())
          && (b.getKind() == null || "Service".equals(b.getKind()))) {
        service(
            out,
            b.getNamespace() == null || b.getNamespace().isEmpty() ? ns : b.getNamespace(),
            b.getName());
      }
    }
  }

  /** A Service backend reads the Service and the ApisixUpstream named like it. */
  private static void service(Set<String> out, String ns, String name) {
    if (name != null) {
      out.add(key("Service", ns, name));
      out.add(key("ApisixUpstream", ns, name));
    }
  }

  private static void secrets(Set<String> out, String ns, List<Plugin> plugins) {
    if (plugins != null) {
      plugins.forEach(p -> secret(out, ns, p.secretRef));
    }
  }

  private static void secret(Set<String> out, String ns, String name) {
    if (name != null && !name.isEmpty()) {
      out.add(key("Secret", ns, name));
    }
  }
}
