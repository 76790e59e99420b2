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
 * A reusable set of plugins ({@code plugin_configs/pc_<namespace>_<name>}); the APISIX Ingress
 * Controller 2.x's {@code PluginConfig} v1alpha1.
 */
@Group("apisix.apache.org")
@Version("v1alpha1")
@Kind("PluginConfig")
@Plural("pluginconfigs")
@AdditionalPrinterColumn(
    name = "Accepted",
    jsonPath = ".status.conditions[?(@.type==\"Accepted\")].status")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class PluginConfig extends CustomResource<PluginConfigSpec, Status> implements Namespaced {}
