package io.archway.dataplane.discovery;

import io.fabric8.kubernetes.api.model.Service;

/**
 * A {@code service_name} of {@code discovery_type: kubernetes}: {@code namespace/name:port}, the
 * port a Service port's name, or its number.
 */
record ServiceRef(String namespace, String name, String port) {

  /** The parts of {@code s}, or {@code null} when it is not {@code namespace/name:port}. */
  static ServiceRef parse(String s) {
    if (s == null) {
      return null;
    }
    int slash = s.indexOf('/');
    int colon = s.lastIndexOf(':');
    if (slash <= 0 || colon <= slash + 1 || colon == s.length() - 1) {
      return null;
    }
    return new ServiceRef(
        s.substring(0, slash), s.substring(slash + 1, colon), s.substring(colon + 1));
  }

  /** The port as a number, when it is one. */
  Integer number() {
    return port.matches("[0-9]{1,5}") ? Integer.valueOf(port) : null;
  }

  /**
   * The name EndpointSlices give the port: the name written, or the name of the Service port with
   * that number ({@code ""} when unnamed); {@code null} when the Service is not known, and the
   * number is then matched against the slices' port numbers.
   */
  String portName(Service svc) {
    if (number() == null) {
      return port;
    }
    if (svc == null || svc.getSpec() == null || svc.getSpec().getPorts() == null) {
      return null;
    }
    for (var p : svc.getSpec().getPorts()) {
      if (number().equals(p.getPort())) {
        return p.getName() == null ? "" : p.getName();
      }
    }
    return null;
  }
}
