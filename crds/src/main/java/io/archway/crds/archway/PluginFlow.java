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

/**
 * Plugins composed as a DAG: each node runs a plugin, edges choose the next one by a condition on
 * the previous plugin's outcome. An ApisixRoute http rule runs it through {@code pluginFlow}.
 */
@Group("archway.io")
@Version("v1alpha1")
@Kind("PluginFlow")
@Plural("pluginflows")
@ShortNames("pf")
@AdditionalPrinterColumn(name = "Root", jsonPath = ".spec.root")
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
public class PluginFlow extends CustomResource<PluginFlowSpec, Status> implements Namespaced {}
