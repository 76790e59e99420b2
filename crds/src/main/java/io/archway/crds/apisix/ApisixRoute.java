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
 * HTTP and stream routes to Services, as the APISIX Ingress Controller's {@code ApisixRoute} v2.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixRoute")
@Plural("apisixroutes")
@ShortNames("ar")
@AdditionalPrinterColumn(name = "Hosts", jsonPath = ".spec.http[*].match.hosts")
@AdditionalPrinterColumn(name = "URIs", jsonPath = ".spec.http[*].match.paths")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Programmed",
    jsonPath = ".status.conditions[?(@.type==\"Programmed\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ApisixRoute extends CustomResource<ApisixRouteSpec, Status> implements Namespaced {}
