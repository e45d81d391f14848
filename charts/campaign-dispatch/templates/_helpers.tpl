{{/* Names, labels and the pieces every workload repeats. */}}

{{- define "cd.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The four services: their values key, ports and how the kubelet probes them. Facts of the code, not settings. */}}
{{- define "cd.components" -}}
campaign-api:
  key: campaignApi
  ports: [{name: http, port: 8080}]
  metricsPort: http
  probe: http
  probePort: http
  needs: [database, broker]
  env: {HTTP_PORT: "8080"}
template-svc:
  key: templateSvc
  ports: [{name: grpc, port: 50051}, {name: metrics, port: 8081}]
  metricsPort: metrics
  probe: grpc
  probePort: 50051
  needs: []
  env: {GRPC_PORT: "50051", PROBE_PORT: "8081"}
dispatch-worker:
  key: dispatchWorker
  ports: [{name: metrics, port: 8082}]
  metricsPort: metrics
  probe: http
  probePort: metrics
  needs: [database, broker]
  env: {PROBE_PORT: "8082"}
scheduler:
  key: scheduler
  ports: [{name: metrics, port: 8083}]
  metricsPort: metrics
  probe: http
  probePort: metrics
  needs: []
  env: {PROBE_PORT: "8083"}
{{- end -}}

{{- define "cd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "cd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: campaign-dispatch
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "campaign-api"). */}}
{{- define "cd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cd.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cd.componentLabels" -}}
{{ include "cd.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cd.image" -}}
{{- $img := .image -}}
{{- $registry := .root.Values.image.registry -}}
{{- $tag := $img.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if $registry -}}{{ printf "%s/%s:%s" $registry $img.repository $tag }}{{- else -}}{{ printf "%s:%s" $img.repository $tag }}{{- end -}}
{{- end -}}

{{- define "cd.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-settings" (include "cd.fullname" .)) -}}
{{- end -}}

{{- define "cd.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "cd.fullname" .) -}}
{{- end -}}

{{- define "cd.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "cd.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ .Values.security.readOnlyRootFilesystem }}
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* DATABASE_URL / AMQP_URL from the settings Secret, for the components that need them. */}}
{{- define "cd.secretEnv" -}}
{{- $root := .root -}}
{{- if has "database" .needs }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "cd.secretName" $root }}
      key: {{ $root.Values.secrets.keys.databaseUrl }}
{{- end }}
{{- if has "broker" .needs }}
- name: AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "cd.secretName" $root }}
      key: {{ $root.Values.secrets.keys.amqpUrl }}
{{- end }}
{{- end -}}

{{/* Fail the render when production values still carry placeholders instead of a real Secret. */}}
{{- define "cd.validateValues" -}}
{{- if eq .Values.environment "production" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- fail "production: set secrets.existingSecret to a Secret holding DATABASE_URL and AMQP_URL (the chart never stores real credentials in values)" -}}
{{- end -}}
{{- if .Values.devDependencies.enabled -}}
{{- fail "production: devDependencies.enabled must be false (use an operated PostgreSQL and RabbitMQ)" -}}
{{- end -}}
{{- end -}}
{{- range $k, $v := dict "databaseUrl" .Values.secrets.databaseUrl "amqpUrl" .Values.secrets.amqpUrl -}}
{{- if and (not $.Values.secrets.existingSecret) (not $.Values.devDependencies.enabled) (or (not $v) (contains "CHANGE_ME" $v)) -}}
{{- fail (printf "secrets.%s is a placeholder: set secrets.existingSecret, or the URL, or enable devDependencies" $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* One NetworkPolicy ingress rule opening a metrics port, to the given peers (any when empty). */}}
{{- define "cd.metricsIngress" -}}
- ports:
    - {port: {{ .port }}, protocol: TCP}
  {{- with .from }}
  from:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
