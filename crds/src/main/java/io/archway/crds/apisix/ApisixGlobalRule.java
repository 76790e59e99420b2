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
 * Plugins run on every request the gateway serves, whatever the route; the APISIX Ingress
 * Controller's {@code ApisixGlobalRule} v2, written as an APISIX {@code global_rules} object.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixGlobalRule")
@Plural("apisixglobalrules")
@ShortNames("agr")
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
public class ApisixGlobalRule extends CustomResource<PluginsSpec, Status> implements Namespaced {}
