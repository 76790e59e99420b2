{{/* The release's name for everything it makes, at most 63 characters. */}}
{{- define "archway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "archway.labels" -}}
app.kubernetes.io/name: archway
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: operator, dataplane or etcd. */}}
{{- define "archway.selector" -}}
app.kubernetes.io/name: archway
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference from {repository, tag, registry?} and the chart-wide registry. */}}
{{- define "archway.image" -}}
{{- $registry := .image.registry | default .root.Values.image.registry -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The etcd endpoints, comma-separated. */}}
{{- define "archway.etcdEndpoints" -}}
{{- if eq .Values.etcd.mode "external" -}}
{{- join "," .Values.etcd.external.endpoints -}}
{{- else -}}
{{- printf "http://%s-etcd:2379" (include "archway.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Command-line options for etcd access, shared by the operator and the dataplane. */}}
{{- define "archway.etcdArgs" -}}
- --etcd
- {{ include "archway.etcdEndpoints" . | quote }}
- --prefix
- {{ .Values.etcd.prefix | quote }}
{{- if and (eq .Values.etcd.mode "external") .Values.etcd.external.tls.secretName }}
- --etcd-ca
- /etc/archway/etcd-tls/ca.crt
- --etcd-cert
- /etc/archway/etcd-tls/tls.crt
- --etcd-key
- /etc/archway/etcd-tls/tls.key
{{- end }}
{{- end -}}

{{/* Environment for etcd authentication. */}}
{{- define "archway.etcdEnv" -}}
{{- if and (eq .Values.etcd.mode "external") .Values.etcd.external.auth.secretName }}
- name: ARCHWAY_ETCD_USER
  valueFrom: {secretKeyRef: {name: {{ .Values.etcd.external.auth.secretName }}, key: username}}
- name: ARCHWAY_ETCD_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.etcd.external.auth.secretName }}, key: password}}
{{- end }}
{{- end -}}

{{- define "archway.etcdVolumeMounts" -}}
{{- if and (eq .Values.etcd.mode "external") .Values.etcd.external.tls.secretName }}
- name: etcd-tls
  mountPath: /etc/archway/etcd-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "archway.etcdVolumes" -}}
{{- if and (eq .Values.etcd.mode "external") .Values.etcd.external.tls.secretName }}
- name: etcd-tls
  secret:
    secretName: {{ .Values.etcd.external.tls.secretName }}
{{- end }}
{{- end -}}

{{/* Non-root, read-only root filesystem, no capabilities, no privilege escalation. */}}
{{- define "archway.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}
