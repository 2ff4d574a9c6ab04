{{/* The labels every object carries, and the ones the pods are selected by. */}}
{{- define "earmark.selector" -}}
app.kubernetes.io/name: earmark
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "earmark.labels" -}}
{{ include "earmark.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "earmark.name" -}}
{{- if eq .Release.Name "earmark" }}earmark{{ else }}{{ printf "%s-earmark" .Release.Name | trunc 63 | trimSuffix "-" }}{{ end -}}
{{- end -}}
