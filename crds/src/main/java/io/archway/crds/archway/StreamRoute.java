package io.archway.crds.archway;

import io.archway.crds.Status;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A TCP route on a dataplane stream listener, plain or decoded as Redis (xRPC). */
@Group("archway.io")
@Version("v1alpha1")
@Kind("StreamRoute")
@Plural("streamroutes")
@ShortNames("sr")
@AdditionalPrinterColumn(
    name = "Port",
    jsonPath = ".spec.port",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Protocol", jsonPath = ".spec.protocol.name")
@AdditionalPrinterColumn(name = "Service", jsonPath = ".spec.backend.serviceName")
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
public class StreamRoute extends CustomResource<StreamRouteSpec, Status> implements Namespaced {}
