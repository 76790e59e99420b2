package io.archway.operator.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The indexed stand-in store answers creates, reads, writes and deletes as the stock one does. */
class IndexedCrudDispatcherTest {

  private static ConfigMap map(String ns, String name, String value) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace(ns)
        .withName(name)
        .endMetadata()
        .withData(Map.of("k", value))
        .build();
  }

  @Test
  void objectsOfOneNameInTwoNamespacesStayApart() {
    for (var kube : new KubeMock[] {new KubeMock(), KubeMock.indexed()}) {
      try (kube) {
        var client = kube.client();
        client.resource(map("a", "same", "1")).create();
        client.resource(map("b", "same", "2")).create();
        assertThatThrownBy(() -> client.resource(map("a", "same", "3")).create())
            .isInstanceOf(KubernetesClientException.class)
            .extracting(e -> ((KubernetesClientException) e).getCode())
            .isEqualTo(409);

        client.configMaps().inNamespace("b").withName("same").edit(m -> map("b", "same", "22"));
        assertThat(client.configMaps().inNamespace("a").withName("same").get().getData())
            .containsEntry("k", "1");
        assertThat(client.configMaps().inNamespace("b").withName("same").get().getData())
            .containsEntry("k", "22");

        client.configMaps().inNamespace("a").withName("same").delete();
        assertThat(client.configMaps().inNamespace("a").withName("same").get()).isNull();
        assertThat(client.configMaps().inAnyNamespace().list().getItems()).hasSize(1);
        client.resource(map("a", "same", "4")).create();
        assertThat(client.configMaps().inNamespace("a").withName("same").get().getData())
            .containsEntry("k", "4");
      }
    }
  }
}
