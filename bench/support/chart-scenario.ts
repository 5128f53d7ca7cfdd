// The workload of bench/charts.ts: a Helm chart of exactly 40 objects (10 components, each a
// ServiceAccount, a ConfigMap, a Service and a 1-replica Deployment with CPU and memory limits),
// written to a folder for `helm package`; a helm wrapper that logs how long each `helm template`
// Flotilla's worker runs takes; the `helm upgrade --install` baseline; and a check, straight
// with kubectl, that a namespace holds the 40 objects at a given values generation, rolled out.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { shellQuote as q } from './promote-scenario.js';

const exec = promisify(execFile);

export const CHART = 'bench40';
export const CHART_VERSION = '1.0.0';
export const COMPONENTS = Array.from({ length: 10 }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`);
export const KINDS = ['ServiceAccount', 'ConfigMap', 'Service', 'Deployment'] as const;
export const OBJECTS = COMPONENTS.length * KINDS.length;
/** On every object the chart renders: how the check finds them (and only them). */
export const CHART_LABEL = 'bench.flotilla.dev/chart';

/** The values of one iteration: only `generation` changes, which rolls every Deployment. */
export const valuesFor = (generation: number): { generation: string } => ({ generation: String(generation) });

const HELPERS = `{{- define "bench.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
${CHART_LABEL}: {{ .root.Chart.Name }}
{{- end }}

{{- define "bench.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}
`;

const COMPONENT_TEMPLATES = `{{- range $name := .Values.components }}
{{- $ctx := dict "root" $ "name" $name }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "bench.labels" $ctx | nindent 4 }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}-config
  labels:
    {{- include "bench.labels" $ctx | nindent 4 }}
data:
  COMPONENT: {{ $name | quote }}
  LOG_LEVEL: {{ $.Values.logLevel | quote }}
  GENERATION: {{ $.Values.generation | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "bench.labels" $ctx | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "bench.selector" $ctx | nindent 4 }}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "bench.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ $.Values.replicas }}
  selector:
    matchLabels:
      {{- include "bench.selector" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "bench.selector" $ctx | nindent 8 }}
    spec:
      serviceAccountName: {{ $name }}
      containers:
        - name: app
          image: "{{ $.Values.image.repository }}:{{ $.Values.image.tag }}"
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          env:
            - name: GENERATION
              value: {{ $.Values.generation | quote }}
          envFrom:
            - configMapRef:
                name: {{ $name }}-config
          resources:
            {{- toYaml $.Values.resources | nindent 12 }}
{{- end }}
`;

/** Writes the chart's source into `dir/bench40`; returns that folder. */
export function writeChart(dir: string): string {
  const chart = join(dir, CHART);
  mkdirSync(join(chart, 'templates'), { recursive: true });
  writeFileSync(join(chart, 'Chart.yaml'), [
    'apiVersion: v2',
    `name: ${CHART}`,
    'description: 10 components x (ServiceAccount, ConfigMap, Service, Deployment) = 40 objects (bench/charts.ts)',
    'type: application',
    `version: ${CHART_VERSION}`,
    `appVersion: "${CHART_VERSION}"`,
    '',
  ].join('\n'));
  writeFileSync(join(chart, 'values.yaml'), [
    'components:',
    ...COMPONENTS.map((c) => `  - ${c}`),
    'replicas: 1',
    'generation: "0"',
    'logLevel: info',
    'image:',
    '  repository: ghcr.io/acme/bench-app',
    `  tag: "${CHART_VERSION}"`,
    'resources:',
    '  requests: { cpu: 10m, memory: 16Mi }',
    '  limits: { cpu: 100m, memory: 64Mi }',
    '',
  ].join('\n'));
  writeFileSync(join(chart, 'templates', '_helpers.tpl'), HELPERS);
  writeFileSync(join(chart, 'templates', 'components.yaml'), COMPONENT_TEMPLATES);
  return chart;
}

/**
 * A script standing in for helm on the worker: runs the real helm and appends
 * "<subcommand> <start epoch s> <end epoch s> <exit code>" to `log`, so the bench sees each
 * render Flotilla does and how long it took (bash's start-up, a few ms, is counted too).
 */
export function writeHelmWrapper(dir: string, helm: string, log: string): string {
  const file = join(dir, 'helm-timed');
  writeFileSync(file, [
    '#!/usr/bin/env bash',
    'start=$EPOCHREALTIME',
    `${q(helm)} "$@"`,
    'rc=$?',
    `printf '%s %s %s %s\\n' "$1" "$start" "$EPOCHREALTIME" "$rc" >> ${q(log)}`,
    'exit $rc',
    '',
  ].join('\n'));
  chmodSync(file, 0o755);
  return file;
}

export interface HelmCall {
  command: string;
  startMs: number;
  endMs: number;
  ok: boolean;
}

/** The wrapper's log: every helm call the worker made, epoch ms. */
export function readHelmLog(log: string): HelmCall[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.trim().length > 0).map((l) => {
    const [command, start, end, rc] = l.trim().split(/\s+/);
    return { command: command ?? '?', startMs: Number(start!.replace(',', '.')) * 1000, endMs: Number(end!.replace(',', '.')) * 1000, ok: rc === '0' };
  });
}

export interface HelmTarget {
  kubeconfig: string;
  namespace: string;
}

/** One `helm upgrade --install … --wait` (watcher strategy): its wall time in ms. */
export async function helmUpgrade(helm: string, options: { ref: string; version: string; release: string; valuesFile: string; target: HelmTarget; timeoutSeconds: number }): Promise<number> {
  const args = [
    'upgrade', '--install', options.release, options.ref, '--version', options.version, '--plain-http',
    '--namespace', options.target.namespace, '--create-namespace', '--kubeconfig', options.target.kubeconfig,
    '--values', options.valuesFile, '--wait', '--timeout', `${options.timeoutSeconds}s`,
  ];
  const t0 = performance.now();
  try {
    await exec(helm, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`helm upgrade --install ${options.release} into ${options.target.namespace} (${options.target.kubeconfig}) failed: ${(e.stderr ?? e.message).trim().slice(-2000)}`);
  }
  return performance.now() - t0;
}

interface LiveObject {
  kind: string;
  metadata: { name: string; generation?: number };
  spec?: { replicas?: number; template?: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
  data?: Record<string, string>;
}

/**
 * What is wrong with the chart's objects in `namespace` (empty when nothing): all 40 there, every
 * ConfigMap and Deployment at `generation`, every Deployment rolled out (no old pods left).
 */
export async function checkChartNamespace(kubectl: string, kubeconfig: string, namespace: string, generation: string): Promise<string[]> {
  const { stdout } = await exec(kubectl, [
    '--kubeconfig', kubeconfig, 'get', 'serviceaccounts,configmaps,services,deployments', '-n', namespace, '-l', `${CHART_LABEL}=${CHART}`, '-o', 'json',
  ], { maxBuffer: 64 * 1024 * 1024 });
  const items = (JSON.parse(stdout) as { items: LiveObject[] }).items;
  const problems: string[] = [];
  if (items.length !== OBJECTS) problems.push(`${namespace}: ${items.length} objects, expected ${OBJECTS}`);
  for (const kind of KINDS) {
    const n = items.filter((o) => o.kind === kind).length;
    if (n !== COMPONENTS.length) problems.push(`${namespace}: ${n} ${kind}s, expected ${COMPONENTS.length}`);
  }
  for (const o of items) {
    if (o.kind === 'ConfigMap' && o.data?.GENERATION !== generation) problems.push(`${namespace}/${o.metadata.name} GENERATION=${o.data?.GENERATION}`);
    if (o.kind !== 'Deployment') continue;
    const env = o.spec?.template?.spec.containers[0]?.env?.find((e) => e.name === 'GENERATION')?.value;
    if (env !== generation) problems.push(`${namespace}/${o.metadata.name} env GENERATION=${env}`);
    const st = o.status ?? {};
    const want = o.spec?.replicas ?? 1;
    if ((st.observedGeneration ?? 0) < (o.metadata.generation ?? 0) || st.updatedReplicas !== want || st.availableReplicas !== want || (st.replicas ?? 0) > want) {
      problems.push(`${namespace}/${o.metadata.name} not rolled out: ${JSON.stringify(st)}`);
    }
  }
  return problems;
}
