#!/usr/bin/env bash
# Runs the upstream Gateway API conformance suite (gateway-api v1.2.1) against Archway on the
# cluster of the current kubectl context and writes the official report.
#
# Needs: kubectl, helm, git, go (the version gateway-api v1.2.1's go.mod asks for), a cluster whose
# LoadBalancer Services get an address reachable from this machine (a cloud, MetalLB,
# cloud-provider-kind, ...), and Archway's images pullable by the cluster (set them with
# ARCHWAY_HELM_ARGS, e.g. "--set image.registry=registry.example.com").
#
# Environment:
#   GATEWAY_API_VERSION  the suite and CRDs (default v1.2.1)
#   NAMESPACE, RELEASE   where Archway is installed (default archway-system, archway)
#   ARCHWAY_VERSION      the version the report names (default: git describe)
#   ORGANIZATION, URL, CONTACT   the report's implementation fields (required)
#   SUPPORTED_FEATURES   the features claimed (default: those docs/gateway-api.md claims)
#   PROFILES             the conformance profiles (default GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-GRPC)
#   REPORT               the report file (default ./archway-<version>-report.yaml)
#   WORKDIR              where the gateway-api repository is cloned (default a temporary one)
#   SERVICE_TYPE         the type of the Service per Gateway (default LoadBalancer)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.2.1}"
NAMESPACE="${NAMESPACE:-archway-system}"
RELEASE="${RELEASE:-archway}"
ARCHWAY_VERSION="${ARCHWAY_VERSION:-$(git -C "$ROOT" describe --tags --always)}"
: "${ORGANIZATION:?set ORGANIZATION, the organization named in the report}"
: "${URL:?set URL, the home page named in the report}"
: "${CONTACT:?set CONTACT, where readers of the report reach the maintainers}"
PROFILES="${PROFILES:-GATEWAY-HTTP,GATEWAY-TLS,GATEWAY-GRPC}"
SUPPORTED_FEATURES="${SUPPORTED_FEATURES:-Gateway,HTTPRoute,ReferenceGrant,GRPCRoute,TLSRoute,HTTPRouteQueryParamMatching,HTTPRouteMethodMatching,HTTPRouteResponseHeaderModification,HTTPRoutePortRedirect,HTTPRouteSchemeRedirect,HTTPRoutePathRedirect,HTTPRouteHostRewrite,HTTPRoutePathRewrite,HTTPRouteRequestTimeout,HTTPRouteBackendTimeout,HTTPRouteParentRefPort,HTTPRouteRequestMirror,HTTPRouteRequestMultipleMirrors,HTTPRouteBackendRequestHeaderModification,HTTPRouteBackendProtocolH2C,HTTPRouteBackendProtocolWebSocket,GatewayHTTPListenerIsolation,GatewayPort8080,GatewayInfrastructurePropagation}"
REPORT="${REPORT:-$PWD/archway-$ARCHWAY_VERSION-report.yaml}"
WORKDIR="${WORKDIR:-$(mktemp -d)}"

echo "context: $(kubectl config current-context)"

# 1. The Gateway API CRDs, standard and experimental channels (TLSRoute is experimental).
kubectl apply --server-side -f \
  "https://github.com/kubernetes-sigs/gateway-api/releases/download/$GATEWAY_API_VERSION/experimental-install.yaml"

# 2. Archway from this repository's chart.
# shellcheck disable=SC2086
helm upgrade --install "$RELEASE" "$ROOT/manifests/helm/archway" \
  --namespace "$NAMESPACE" --create-namespace --wait --timeout 10m ${ARCHWAY_HELM_ARGS:-}

# 3. A Service per Gateway (GatewayParameters named by the class): each of the suite's Gateways
#    gets its own LoadBalancer Service exposing its listeners' ports (80 and 443 go to where the
#    dataplane binds them, 10080 and 10443, unless it runs with --privileged-ports), and that
#    Service's address becomes the Gateway's status.addresses, which the suite sends traffic to.
#    spec.infrastructure labels and annotations land on that Service.
kubectl apply -f - <<YAML
apiVersion: archway.io/v1alpha1
kind: GatewayParameters
metadata: {name: conformance, namespace: $NAMESPACE}
spec:
  service: {type: ${SERVICE_TYPE:-LoadBalancer}}
YAML

# 4. The GatewayClass the suite uses.
kubectl apply -f - <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec:
  controllerName: archway.io/gateway-controller
  parametersRef: {group: archway.io, kind: GatewayParameters, name: conformance, namespace: $NAMESPACE}
YAML
kubectl wait --for=condition=Accepted gatewayclass/archway --timeout=2m

# 5. The upstream suite at the tag, with the report.
if [ ! -d "$WORKDIR/gateway-api" ]; then
  git clone --depth 1 --branch "$GATEWAY_API_VERSION" \
    https://github.com/kubernetes-sigs/gateway-api.git "$WORKDIR/gateway-api"
fi
cd "$WORKDIR/gateway-api"
go test ./conformance -run TestConformance -timeout 60m -v -args \
  --gateway-class=archway \
  --conformance-profiles="$PROFILES" \
  --supported-features="$SUPPORTED_FEATURES" \
  --report-output="$REPORT" \
  --organization="$ORGANIZATION" \
  --project=archway \
  --url="$URL" \
  --version="$ARCHWAY_VERSION" \
  --contact="$CONTACT"
echo "report: $REPORT"
