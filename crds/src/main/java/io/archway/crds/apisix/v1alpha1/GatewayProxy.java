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
 * How the APISIX Ingress Controller 2.x reaches its data plane, with the plugins run on every
 * request and the plugins' shared metadata; Archway keeps the plugins (a global rule) and the
 * metadata, and writes etcd itself rather than calling the Admin API it names.
 */
@Group("apisix.apache.org")
@Version("v1alpha1")
@Kind("GatewayProxy")
@Plural("gatewayproxies")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class GatewayProxy extends CustomResource<GatewayProxySpec, Status> implements Namespaced {}
