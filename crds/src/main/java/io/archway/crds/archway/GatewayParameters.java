package io.archway.crds.archway;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * What a platform team sets for the Gateways of a GatewayClass ({@code spec.parametersRef}) or for
 * one Gateway ({@code spec.infrastructure.parametersRef}, field by field over the class's): the
 * Service Archway creates per Gateway in front of the dataplane, and defaults for every listener.
 * It has no status of its own: the GatewayClasses and Gateways that name it say whether it is valid
 * ({@code Accepted: False, InvalidParameters}).
 */
@Group("archway.io")
@Version("v1alpha1")
@Kind("GatewayParameters")
@Plural("gatewayparameters")
@ShortNames("gwp")
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.service.type")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GatewayParameters extends CustomResource<GatewayParametersSpec, Void>
    implements Namespaced {}
