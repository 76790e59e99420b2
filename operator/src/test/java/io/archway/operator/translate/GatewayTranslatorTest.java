package io.archway.operator.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A Gateway's {@code Programmed} and addresses, from the dataplane Service's (not in fixtures). */
class GatewayTranslatorTest {

  private static Gateway gateway(String addresses) {
    return Serialization.unmarshal(
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: default, generation: 4}
        spec:
          gatewayClassName: archway
          ADDRESSES
          listeners:
          - {name: http, port: 80, protocol: HTTP}
        """
            .replace("ADDRESSES", addresses),
        Gateway.class);
  }

  private static String programmed(Gateway gw, List<GatewayStatusAddress> published) {
    var status =
        (GatewayStatus) GatewayTranslator.translate(gw, new Manifests("x"), published).status();
    return status.getConditions().stream()
        .filter(c -> c.getType().equals("Programmed"))
        .map(c -> c.getStatus() + " " + c.getReason())
        .findFirst()
        .orElseThrow();
  }

  @Test
  void theDataplaneServiceAddressIsTheGateways() {
    var published = List.of(new GatewayStatusAddress("IPAddress", "10.0.0.1"));
    var gw = gateway("");
    var t = GatewayTranslator.translate(gw, new Manifests("x"), published);
    assertThat(((GatewayStatus) t.status()).getAddresses()).isEqualTo(published);
    assertThat(programmed(gw, published)).isEqualTo("True Programmed");
  }

  @Test
  void anAddressTheServiceDoesNotHaveIsNotAssigned() {
    var published = List.of(new GatewayStatusAddress("IPAddress", "10.0.0.1"));
    assertThat(programmed(gateway("addresses: [{type: IPAddress, value: 10.0.0.1}]"), published))
        .isEqualTo("True Programmed");
    assertThat(programmed(gateway("addresses: [{value: 192.0.2.7}]"), published))
        .isEqualTo("False AddressNotAssigned");
    assertThat(programmed(gateway(""), List.of())).isEqualTo("False AddressNotAssigned");
  }

  @Test
  void attachedRoutesAreTheCountsGivenPerListener() {
    var t = GatewayTranslator.translate(gateway(""), new Manifests("x"), null, l -> l.length());
    assertThat(((GatewayStatus) t.status()).getListeners().get(0).getAttachedRoutes()).isEqualTo(4);
  }

  @Test
  void withoutAPublishedServiceItIsProgrammedWithoutAddresses() {
    var t = GatewayTranslator.translate(gateway(""), new Manifests("x"), null);
    assertThat(((GatewayStatus) t.status()).getAddresses()).isNullOrEmpty();
    assertThat(programmed(gateway(""), null)).isEqualTo("True Programmed");
  }
}
