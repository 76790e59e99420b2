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
 * A certificate for host names, from a {@code kubernetes.io/tls} Secret, with optional client
 * verification (mTLS); the APISIX Ingress Controller's {@code ApisixTls} v2.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixTls")
@Plural("apisixtlses")
@ShortNames("atls")
@AdditionalPrinterColumn(name = "SNIs", jsonPath = ".spec.hosts")
@AdditionalPrinterColumn(name = "Secret", jsonPath = ".spec.secret.name")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ApisixTls extends CustomResource<ApisixTlsSpec, Status> implements Namespaced {}
