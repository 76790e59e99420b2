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
SUPPORTED_FEATURES="${SUPPORTED_FEATURES:-Gateway,HTTPRoute,ReferenceGrant,GRPCRoute,TLSRoute,HTTPRouteQueryParamMatching,HTTPRouteMethodMatching,HTTPRouteResponseHeaderModification,HTTPRoutePortRedirect,HTTPRouteSchemeRedirect,HTTPRoutePathRedirect,HTTPRouteHostRewrite,HTTPRoutePathRewrite,HTTPRouteRequestTimeout,HTTPRouteBackendTimeout,HTTPRouteParentRefPort,HTTPRouteRequestMirror,GatewayHTTPListenerIsolation}"
REPORT="${REPORT:-$PWD/archway-$ARCHWAY_VERSION-report.yaml}"
WORKDIR="${WORKDIR:-$(mktemp -d)}"

echo "context: $(kubectl config current-context)"

# 1. The Gateway API CRDs, standard and experimental channels (TLSRoute is experimental).
kubectl apply --server-side -f \
  "https://github.com/kubernetes-sigs/gateway-api/releases/download/$GATEWAY_API_VERSION/experimental-install.yaml"

# 2. Archway from this repository's chart. The operator publishes the dataplane Service
#    (--publish-service <namespace>/<release>-dataplane): its address becomes the Gateways'.
# shellcheck disable=SC2086
helm upgrade --install "$RELEASE" "$ROOT/manifests/helm/archway" \
  --namespace "$NAMESPACE" --create-namespace --wait --timeout 10m ${ARCHWAY_HELM_ARGS:-}
SERVICE="$RELEASE-dataplane"
[[ "$RELEASE" == *archway* ]] || SERVICE="$RELEASE-archway-dataplane"

# 3. The suite's Gateways listen on 80 and 443. Without --privileged-ports the dataplane binds a
#    Gateway listener below 1024 at port + 10000, so the Service's 80 and 443 must go there (the
#    chart points them at the dataplane's own 9080 and 9443).
kubectl -n "$NAMESPACE" patch service "$SERVICE" --type json -p '[
  {"op": "replace", "path": "/spec/ports/0/targetPort", "value": 10080},
  {"op": "replace", "path": "/spec/ports/1/targetPort", "value": 10443}]'
kubectl -n "$NAMESPACE" wait --for=jsonpath='{.status.loadBalancer.ingress}' \
  "service/$SERVICE" --timeout=5m

# 4. The GatewayClass the suite uses.
kubectl apply -f - <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec: {controllerName: archway.io/gateway-controller}
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
