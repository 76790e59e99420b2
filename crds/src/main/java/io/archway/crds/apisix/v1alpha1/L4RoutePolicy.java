package io.archway.crds.apisix.v1alpha1;

import io.archway.crds.Status;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Stream plugins for Gateway API TCPRoutes, UDPRoutes and TLSRoutes; the APISIX Ingress Controller
 * 2.x's {@code L4RoutePolicy} v1alpha1. Archway refuses it until it serves those routes.
 */
@Group("apisix.apache.org")
@Version("v1alpha1")
@Kind("L4RoutePolicy")
@Plural("l4routepolicies")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class L4RoutePolicy extends CustomResource<L4RoutePolicySpec, Status>
    implements Namespaced {}
