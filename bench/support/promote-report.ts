// What bench/promote.ts reports for each latency: the medians, the ratios against the goals of
// issue 15, a markdown summary (what is compared, a table of times, a table of goals with a
// "met?" column, where Flotilla's time goes), the JSON written beside it, and the chart.
import type { ChartSpecInput } from './chart-svg.js';
import type { RequestStats } from './counting-limits.js';
import { max, median } from './promote-scenario.js';

export type Approach = 'A' | 'B' | 'C';
export const APPROACHES: readonly Approach[] = ['A', 'B', 'C'];
export const LABELS: Record<Approach, string> = {
  A: '(A) Flotilla promote, maxParallel 6',
  B: '(B) kubectl loop, sequential',
  C: '(C) kubectl loop, 6 clusters in parallel',
};

/** The goals (issue 15); the WAN ones apply from this one-way latency up (25 and 80 ms). */
export const GOALS = { wanFromMs: 25, seqOverFlotilla: 3, flotillaOverParallel: 0.6, flotillaOverFloor: 1.1, firstApplyMs: 200 } as const;

/** Everything measured at one latency. */
export interface Phase {
  latencyMs: number;
  jitterMs: number;
  /** Wall time of each run, ms. */
  wall: Record<Approach, number[]>;
  /** Share of all cores busy during each run (0–1). */
  busy: Record<Approach, number[]>;
  /** Per Flotilla run: its start → the last cluster converged (independent watch), ms. */
  floor: number[];
  /** Per Flotilla run: its wall time / its floor. */
  overFloor: number[];
  /** Per child of every Flotilla run: parent WorkflowExecutionStarted → first applyRevision started, ms. */
  firstApply: number[];
  /** Named spans of Flotilla's runs from the Temporal histories, ms. */
  spans: Record<string, number[]>;
  /** Kubernetes requests per activity type, one entry per Flotilla run. */
  requests: Map<string, RequestStats>[];
  /** The bench process's event-loop delay during Flotilla's runs (the watch's timestamps wait on it), p99 ms per run. */
  loopDelayP99: number[];
  /** kubectl loops, per cluster: the apply and the rollout waits, ms. */
  kubectlSplit: Record<'B' | 'C', { apply: number[]; wait: number[] }>;
}

export interface Goal {
  measure: string;
  value: number;
  goal: string;
  met: boolean;
}

export interface PhaseSummary {
  latencyMs: number;
  jitterMs: number;
  /** Runs of A, B and C. */
  runs: Record<Approach, number>;
  medianMs: Record<Approach | 'floor', number>;
  ratios: { bOverA: number; aOverC: number; aOverFloor: number };
  firstApplyP50Ms: number;
  goals: Goal[];
}

const x2 = (v: number) => `${v.toFixed(2)}×`;

export function summarize(p: Phase): PhaseSummary {
  const m = { A: median(p.wall.A), B: median(p.wall.B), C: median(p.wall.C), floor: median(p.floor) };
  // B/A and A/C compare medians of unpaired runs; A/floor pairs each run with its own floor.
  const ratios = { bOverA: m.B / m.A, aOverC: m.A / m.C, aOverFloor: median(p.overFloor) };
  const firstApplyP50Ms = median(p.firstApply);
  const goals: Goal[] = [];
  if (p.latencyMs >= GOALS.wanFromMs) {
    goals.push({ measure: 'B/A: sequential kubectl ÷ Flotilla', value: ratios.bOverA, goal: `≥ ${GOALS.seqOverFlotilla}×`, met: ratios.bOverA >= GOALS.seqOverFlotilla });
    goals.push({ measure: 'A/C: Flotilla ÷ parallel kubectl', value: ratios.aOverC, goal: `≤ ${GOALS.flotillaOverParallel}×`, met: ratios.aOverC <= GOALS.flotillaOverParallel });
  }
  goals.push({ measure: 'A/floor: Flotilla ÷ clusters converged', value: ratios.aOverFloor, goal: `≤ ${GOALS.flotillaOverFloor.toFixed(2)}×`, met: ratios.aOverFloor <= GOALS.flotillaOverFloor });
  goals.push({ measure: 'workflow start → first apply, p50', value: firstApplyP50Ms, goal: `≤ ${GOALS.firstApplyMs} ms`, met: firstApplyP50Ms <= GOALS.firstApplyMs });
  return { latencyMs: p.latencyMs, jitterMs: p.jitterMs, runs: { A: p.wall.A.length, B: p.wall.B.length, C: p.wall.C.length }, medianMs: m, ratios, firstApplyP50Ms, goals };
}

const s = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : 'n/a');
const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number, firstLeft = true) => row(Array.from({ length: n }, (_, i) => (i === 0 && firstLeft ? '---' : '---:')));
const latencyLabel = (p: { latencyMs: number; jitterMs: number }) => `${p.latencyMs} ms${p.jitterMs ? ` ±${p.jitterMs}` : ''}`;
const goalValue = (g: Goal) => (g.goal.endsWith('ms') ? `${g.value.toFixed(0)} ms` : x2(g.value));

/** The header of the report: what is compared, and how the floor is taken. */
export function describe(opts: { clusters: number; services: number; objects: number; iterations: number; seqIterations: number }): string {
  return [
    `Promote a ${opts.services}-service application (${opts.objects} objects per target) to ${opts.clusters} clusters, each API server`,
    'behind Toxiproxy with the given one-way latency (both directions), a new image tag every run:',
    `- ${LABELS.A}: one stage of ${opts.clusters} targets, failurePolicy rollback, through the proxied kubeconfigs;`,
    `- ${LABELS.B}: per cluster \`kubectl apply -f\`, then \`kubectl rollout status\` per Deployment;`,
    `- ${LABELS.C}: the same, one background subshell per cluster;`,
    '- floor: from the moment the bench starts the promote workflow to the moment the last of the 6 clusters has converged',
    '  (all 20 Deployments at the new tag and rolled out), seen by an independent watch on the direct, un-proxied',
    '  connection: when the clusters were done, not when anyone polling them through the WAN noticed.',
    `${opts.iterations} run(s) of A and C per latency, ${opts.seqIterations} of B (the slowest, and steadiest: round trips one after`,
    'another), order alternating (A B C, then C B A). Medians.',
  ].join('\n');
}

export function markdownSummary(phases: readonly Phase[]): string {
  const sums = phases.map(summarize);
  const out: string[] = [];
  out.push(row(['one-way latency', 'A Flotilla', 'B kubectl seq.', 'C kubectl par.', 'floor', 'B/A', 'A/C', 'A/floor', 'start → first apply p50', 'runs A/B/C']));
  out.push(rule(10));
  for (const m of sums) {
    out.push(row([
      latencyLabel(m), `${s(m.medianMs.A)} s`, `${s(m.medianMs.B)} s`, `${s(m.medianMs.C)} s`, `${s(m.medianMs.floor)} s`,
      x2(m.ratios.bOverA), x2(m.ratios.aOverC), x2(m.ratios.aOverFloor), `${m.firstApplyP50Ms.toFixed(0)} ms`, `${m.runs.A}/${m.runs.B}/${m.runs.C}`,
    ]));
  }
  out.push('');
  out.push(row(['one-way latency', 'measure', 'value', 'goal', 'met?']));
  out.push(row(['---', '---', '---:', '---', '---']));
  for (const m of sums) {
    for (const g of m.goals) out.push(row([latencyLabel(m), g.measure, goalValue(g), g.goal, g.met ? 'yes' : '**no**']));
  }
  return out.join('\n');
}

/** Where the time goes, side by side per latency: runs, Flotilla's spans, requests, kubectl's split. */
export function markdownProfile(phases: readonly Phase[], objects: number): string {
  const heads = phases.map((p) => latencyLabel(p));
  const out: string[] = [];
  out.push('Every run (s), in the order run:');
  out.push('');
  out.push(row(['approach', ...heads]));
  out.push(rule(heads.length + 1));
  for (const a of APPROACHES) out.push(row([LABELS[a], ...phases.map((p) => p.wall[a].map(s).join(', '))]));
  out.push(row(['floor (clusters converged)', ...phases.map((p) => p.floor.map(s).join(', '))]));
  for (const a of APPROACHES) out.push(row([`CPUs busy during ${a} (median)`, ...phases.map((p) => pct(median(p.busy[a])))]));
  out.push(row(['bench event-loop delay during A, p99 (max over runs)', ...phases.map((p) => `${max(p.loopDelayP99).toFixed(0)} ms`)]));
  out.push('');
  out.push("Where Flotilla's time goes, from the Temporal histories (median ms over every target and run; max in brackets):");
  out.push('');
  out.push(row(['span', ...heads]));
  out.push(rule(heads.length + 1));
  const spanNames = [...new Set(phases.flatMap((p) => Object.keys(p.spans)))];
  for (const k of spanNames) {
    out.push(row([k.trim().replace(/\|/g, '/'), ...phases.map((p) => {
      const xs = p.spans[k] ?? [];
      return xs.length ? `${median(xs).toFixed(0)} (${max(xs).toFixed(0)})` : '';
    })]));
  }
  out.push('');
  out.push('Kubernetes requests per promotion (all 6 clusters), by activity: count, and median / p95 latency of one request:');
  out.push('');
  out.push(row(['activity', ...heads]));
  out.push(rule(heads.length + 1));
  const types = [...new Set(phases.flatMap((p) => p.requests.flatMap((r) => [...r.keys()])))];
  for (const type of types) {
    out.push(row([type, ...phases.map((p) => {
      const counts = p.requests.map((r) => r.get(type)?.requests ?? 0);
      const lat = p.requests.flatMap((r) => r.get(type)?.latencies ?? []).sort((a, b) => a - b);
      const p95 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))];
      return lat.length ? `${median(counts).toFixed(0)}: ${median(lat).toFixed(0)} / ${(p95 ?? NaN).toFixed(0)} ms` : '0';
    })]));
  }
  out.push('');
  out.push('kubectl loops, per cluster (median ms; max in brackets):');
  out.push('');
  out.push(row(['span', ...heads]));
  out.push(rule(heads.length + 1));
  for (const a of ['B', 'C'] as const) {
    const cell = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} (${max(xs).toFixed(0)})` : '');
    out.push(row([`(${a}) kubectl apply -f (${objects} objects)`, ...phases.map((p) => cell(p.kubectlSplit[a].apply))]));
    out.push(row([`(${a}) 20 × kubectl rollout status`, ...phases.map((p) => cell(p.kubectlSplit[a].wait))]));
  }
  return out.join('\n');
}

/** The JSON form of the results (maps as objects, summaries included). */
export function resultsJson(phases: readonly Phase[], meta: Record<string, unknown>): unknown {
  return {
    ...meta,
    goals: GOALS,
    phases: phases.map((p) => ({
      ...summarize(p),
      runsMs: { A: p.wall.A, B: p.wall.B, C: p.wall.C, floor: p.floor },
      aOverFloorPerRun: p.overFloor,
      cpuBusy: p.busy,
      firstApplyMs: p.firstApply,
      loopDelayP99Ms: p.loopDelayP99,
      spansMs: p.spans,
      requests: p.requests.map((r) => Object.fromEntries([...r].map(([k, v]) => [k, { requests: v.requests, totalMs: v.totalMs, medianMs: median(v.latencies) }]))),
      kubectlSplitMs: p.kubectlSplit,
    })),
  };
}

/** Grouped bars per latency: A, B, C and the floor, in seconds. */
export function chartSpec(phases: readonly Phase[], opts: { clusters: number; services: number; note: string }): ChartSpecInput {
  const sums = phases.map(summarize);
  const sec = (ms: number) => (Number.isFinite(ms) ? ms / 1000 : null);
  return {
    title: `Promoting a ${opts.services}-service application to ${opts.clusters} clusters`,
    subtitle: 'median wall time, by one-way latency to every cluster\'s API server (lower is better)',
    categories: sums.map((m) => latencyLabel(m)),
    xLabel: 'one-way latency (Toxiproxy, each direction)',
    yLabel: 'seconds',
    unit: ' s',
    decimals: 1,
    series: [
      { name: '(A) Flotilla promote', values: sums.map((m) => sec(m.medianMs.A)), color: '#0072B2' },
      { name: '(B) kubectl loop, sequential', values: sums.map((m) => sec(m.medianMs.B)), color: '#D55E00' },
      { name: '(C) kubectl loop, parallel', values: sums.map((m) => sec(m.medianMs.C)), color: '#E69F00' },
      { name: 'floor: clusters converged', values: sums.map((m) => sec(m.medianMs.floor)), color: '#8c8c8c' },
    ],
    note: opts.note,
  };
}
