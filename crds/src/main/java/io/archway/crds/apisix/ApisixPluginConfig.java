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
 * A set of plugins that ApisixRoute http rules share by naming it in {@code plugin_config_name}
 * (and {@code plugin_config_namespace}); the APISIX Ingress Controller's {@code ApisixPluginConfig}
 * v2, written as an APISIX {@code plugin_configs} object.
 */
@Group("apisix.apache.org")
@Version("v2")
@Kind("ApisixPluginConfig")
@Plural("apisixpluginconfigs")
@ShortNames("apc")
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
public class ApisixPluginConfig extends CustomResource<PluginsSpec, Status> implements Namespaced {}
