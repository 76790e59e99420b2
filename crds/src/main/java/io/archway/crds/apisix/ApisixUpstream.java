package io.archway.crds.apisix;

import io.archway.crds.Status;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Upstream settings for the Service of the same name (load balancing, retries, timeouts, health
 * checks, subsets), or external nodes that routes reference by name; the APISIX Ingress
 * Controller's {@code ApisixUpstream} v2.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixUpstream")
@Plural("apisixupstreams")
@ShortNames("au")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ApisixUpstream extends CustomResource<ApisixUpstreamSpec, Status>
    implements Namespaced {}
