package io.archway.crds.apisix;

import io.archway.crds.Status;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Gateway-wide settings (cluster-scoped); the APISIX Ingress Controller's {@code
 * ApisixClusterConfig} v2. {@code monitoring.prometheus} is written as a global rule running the
 * prometheus plugin; what Archway cannot honour (skywalking tracing, an Admin API to write through)
 * is refused with the field named.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixClusterConfig")
@Plural("apisixclusterconfigs")
@ShortNames("acc")
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
public class ApisixClusterConfig extends CustomResource<ApisixClusterConfigSpec, Status> {}
