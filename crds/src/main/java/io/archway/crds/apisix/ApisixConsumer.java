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
 * A consumer and its credentials for the auth plugins (key-auth, basic-auth, jwt-auth, hmac-auth,
 * ldap-auth, wolf-rbac), given as values or taken from Secrets; the APISIX Ingress Controller's
 * {@code ApisixConsumer} v2.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixConsumer")
@Plural("apisixconsumers")
@ShortNames("ac")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class ApisixConsumer extends CustomResource<ApisixConsumerSpec, Status>
    implements Namespaced {}
