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

{{/*
"<fullname>-<component>": the fullname is cut, not the suffix, so every name fits `max` characters (63, the limit of
a DNS label and of a label value; 52 for StatefulSets, whose pods carry "<name>-<10-character hash>" in the
controller-revision-hash label). Call with (dict "root" $ "component" "campaign-api") and optionally "max" 52.
*/}}
{{- define "cd.componentName" -}}
{{- $max := .max | default 63 | int -}}
{{- $prefix := include "cd.fullname" .root | trunc (sub $max (add1 (len .component)) | int) | trimSuffix "-" -}}
{{- printf "%s-%s" $prefix .component -}}
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

{{/* The Secret holding both URLs: the one named by secrets.existingSecret, or the one the chart makes. */}}
{{- define "cd.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "cd.componentName" (dict "root" . "component" "settings")) -}}
{{- end -}}

{{/* The Secret with Kannel's sendsms user: kannel.existingSecret, or the one the chart makes (development). */}}
{{- define "cd.kannelSecretName" -}}
{{- .Values.kannel.existingSecret | default (include "cd.componentName" (dict "root" . "component" "kannel")) -}}
{{- end -}}

{{/* True ("true") when the chart renders its own Secret: no existing Secret names both URLs. */}}
{{- define "cd.chartMakesSecret" -}}
{{- $s := .Values.secrets -}}
{{- if and (not $s.existingSecret) (not (and $s.database.secretName $s.rabbitmq.secretName)) -}}true{{- end -}}
{{- end -}}

{{/*
The pods' ServiceAccount: the chart's own, or the existing one named by serviceAccount.name, or (create=false
without a name) the namespace's "default", which always exists.
*/}}
{{- define "cd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "cd.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
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

{{/*
DATABASE_URL and AMQP_URL for the components that need them, each read with secretKeyRef from, in order:
- secrets.database.secretName / secrets.rabbitmq.secretName: existing Secrets of an operator (CloudNativePG's
  "<cluster>-app" Secret holds the whole URL under "uri"; the RabbitMQ cluster operator's "<cluster>-default-user"
  Secret holds username, password, host and port, assembled into AMQP_URL with Kubernetes' $(VAR) expansion);
- secrets.existingSecret, one Secret holding both URLs under secrets.keys;
- the Secret the chart makes (development, or URLs given in values).
Call with (dict "root" $ "needs" (list "database" "broker") "secretName" "<override>"); secretName replaces the
chart-made Secret's name (the migration hook reads its own copy).
*/}}
{{- define "cd.secretEnv" -}}
{{- $root := .root -}}
{{- $s := $root.Values.secrets -}}
{{- $own := .secretName | default (include "cd.secretName" $root) -}}
{{- if has "database" .needs }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if $s.database.secretName }}
      name: {{ $s.database.secretName }}
      key: {{ $s.database.key }}
      {{- else }}
      name: {{ $own }}
      key: {{ $s.keys.databaseUrl }}
      {{- end }}
{{- end }}
{{- if has "broker" .needs }}
{{- if $s.rabbitmq.secretName }}
{{- range $var, $key := dict "AMQP_USERNAME" "username" "AMQP_PASSWORD" "password" "AMQP_HOST" "host" "AMQP_PORT" "port" }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $s.rabbitmq.secretName }}
      key: {{ $key }}
{{- end }}
- name: AMQP_URL
  value: {{ printf "%s://$(AMQP_USERNAME):$(AMQP_PASSWORD)@$(AMQP_HOST):$(AMQP_PORT)/%s" $s.rabbitmq.scheme ($s.rabbitmq.vhost | urlquery) | quote }}
{{- else }}
- name: AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ $own }}
      key: {{ $s.keys.amqpUrl }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Fail the render when production values still carry placeholders instead of a real Secret. */}}
{{- define "cd.validateValues" -}}
{{- if eq .Values.environment "production" -}}
{{- if include "cd.chartMakesSecret" . -}}
{{- fail "production: set secrets.existingSecret to a Secret holding DATABASE_URL and AMQP_URL, or secrets.database.secretName and secrets.rabbitmq.secretName to the operators' Secrets (the chart never stores real credentials in values)" -}}
{{- end -}}
{{- if .Values.devDependencies.enabled -}}
{{- fail "production: devDependencies.enabled must be false (use an operated PostgreSQL and RabbitMQ)" -}}
{{- end -}}
{{- if and .Values.kannel.enabled (not .Values.kannel.existingSecret) -}}
{{- fail "production: set kannel.existingSecret to a Secret holding Kannel's sendsms user (keys private.conf and credentials); the chart never stores real credentials in values" -}}
{{- end -}}
{{- if not .Values.scheduler.apiKeySecret.name -}}
{{- fail "production: set scheduler.apiKeySecret.name to a Secret holding the scheduler's system key (campaign-api keys create --system)" -}}
{{- end -}}
{{- end -}}
{{- $s := .Values.secrets -}}
{{- /* a URL read from an operator's Secret needs no value here */ -}}
{{- $fromValues := dict -}}
{{- if not $s.database.secretName }}{{- $_ := set $fromValues "databaseUrl" $s.databaseUrl -}}{{- end -}}
{{- if not $s.rabbitmq.secretName }}{{- $_ := set $fromValues "amqpUrl" $s.amqpUrl -}}{{- end -}}
{{- range $k, $v := $fromValues -}}
{{- if and (include "cd.chartMakesSecret" $) (not $.Values.devDependencies.enabled) (or (not $v) (contains "CHANGE_ME" $v)) -}}
{{- fail (printf "secrets.%s is a placeholder: set secrets.existingSecret, or the URL, or enable devDependencies" $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A NetworkPolicy rule as JSON: ports (TCP) and peers; no peers means any address, on those ports only */}}
{{- define "cd.np.rule" -}}
{{- $rule := dict "ports" list -}}
{{- range .ports }}{{- $_ := set $rule "ports" (append $rule.ports (dict "port" . "protocol" "TCP")) -}}{{- end -}}
{{- with .peers }}{{- $_ := set $rule $.direction . -}}{{- end -}}
{{- toJson $rule -}}
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


{{/* The stringData of the chart-made URLs Secret: the URLs from values, or those of the dev databases. */}}
{{- define "cd.urls" -}}
{{- $dev := .Values.devDependencies -}}
{{- $databaseUrl := .Values.secrets.databaseUrl -}}
{{- $amqpUrl := .Values.secrets.amqpUrl -}}
{{- if $dev.enabled -}}
{{- $databaseUrl = $databaseUrl | default (printf "postgresql://%s:%s@%s:5432/%s" $dev.postgresql.username $dev.postgresql.password (include "cd.componentName" (dict "root" . "component" "postgresql" "max" 52)) $dev.postgresql.database) -}}
{{- $amqpUrl = $amqpUrl | default (printf "amqp://%s:%s@%s:5672/" $dev.rabbitmq.username $dev.rabbitmq.password (include "cd.componentName" (dict "root" . "component" "rabbitmq" "max" 52))) -}}
{{- end -}}
{{- /* a URL an operator's Secret holds is not copied here */ -}}
{{- $urls := dict -}}
{{- if not .Values.secrets.database.secretName -}}
{{- $_ := set $urls .Values.secrets.keys.databaseUrl $databaseUrl -}}
{{- end -}}
{{- if not .Values.secrets.rabbitmq.secretName -}}
{{- $_ := set $urls .Values.secrets.keys.amqpUrl $amqpUrl -}}
{{- end -}}
{{- toYaml $urls -}}
{{- end -}}


{{/*
The custom resources the chart can render, each with the CRD it needs: a value turns one on, the cluster must serve
its API too (.Capabilities; `helm template --api-versions` offline). "cd.crdActive" answers "true" for one key.
*/}}
{{- define "cd.crds" -}}
serviceMonitor: {api: monitoring.coreos.com/v1/ServiceMonitor, crd: servicemonitors.monitoring.coreos.com, installedBy: the Prometheus Operator (kube-prometheus-stack)}
prometheusRule: {api: monitoring.coreos.com/v1/PrometheusRule, crd: prometheusrules.monitoring.coreos.com, installedBy: the Prometheus Operator (kube-prometheus-stack)}
scaledObject: {api: keda.sh/v1alpha1/ScaledObject, crd: scaledobjects.keda.sh, installedBy: KEDA}
httpRoute: {api: gateway.networking.k8s.io/v1/HTTPRoute, crd: httproutes.gateway.networking.k8s.io, installedBy: the Gateway API CRDs (standard channel)}
{{- end -}}

{{- define "cd.crdWanted" -}}
{{- $v := .root.Values -}}
{{- $wanted := dict "serviceMonitor" $v.metrics.serviceMonitor.enabled "prometheusRule" $v.metrics.prometheusRule.enabled "scaledObject" $v.dispatchWorker.keda.enabled "httpRoute" $v.campaignApi.httpRoute.enabled -}}
{{- if get $wanted .key -}}true{{- end -}}
{{- end -}}

{{- define "cd.crdActive" -}}
{{- $crd := get (include "cd.crds" .root | fromYaml) .key -}}
{{- if and (include "cd.crdWanted" .) (.root.Capabilities.APIVersions.Has $crd.api) -}}true{{- end -}}
{{- end -}}
