// How long loading one realistic environment takes: parse its YAML, validate it, hash its
// revision, render its manifests and check the rules. Baseline, in the same run: parsing the
// same YAML alone (the floor any loader pays). Goal: well under 50 ms per environment.
//
//   npx tsx bench/domain.ts [iterations]
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { parseDocuments } from '../domain/documents.js';
import { environmentFromDocument } from '../domain/environment.js';
import { render } from '../domain/render.js';
import { revisionOf } from '../domain/revision.js';
import { evaluateRules, Rules } from '../domain/rules.js';
import { shopEnvironment } from '../test/support/fixtures.js';

const iterations = Number(process.argv[2] ?? 200);
const text = stringify(shopEnvironment());
const rules = Rules.parse({
  requireResourceLimits: {}, forbidLatestTag: {}, allowedRegistries: { registries: ['ghcr.io/acme'] },
  minReplicas: { perTier: { prod: 2 } }, residency: {}, approvals: { prod: { required: 1 } },
});

function load(): number {
  const parsed = parseDocuments(text);
  if (!parsed.ok || parsed.value[0]?.kind !== 'Environment') throw new Error('fixture did not validate');
  const env = environmentFromDocument(parsed.value[0]);
  const revision = revisionOf(env.spec);
  const manifests = render({ ...env, revision });
  const verdict = evaluateRules(rules, { kind: 'deploy', at: new Date().toISOString(), targets: [{ ...env, cluster: { name: 'local-dev', labels: { tier: env.binding.tier, geo: 'us' } } }] });
  if (!verdict.allowed) throw new Error('fixture broke a rule');
  return manifests.length;
}

function yamlOnly(): number {
  return Object.keys(parse(text) as object).length;
}

function measure(fn: () => number): { cold: number; samples: number[] } {
  const t0 = performance.now();
  fn();
  const cold = performance.now() - t0;
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { cold, samples };
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
const row = (name: string, r: { cold: number; samples: number[] }) =>
  `${name.padEnd(34)} cold ${r.cold.toFixed(2).padStart(7)} ms   median ${q(r.samples, 0.5).toFixed(3).padStart(7)} ms   p95 ${q(r.samples, 0.95).toFixed(3).padStart(7)} ms   max ${r.samples.at(-1)!.toFixed(3).padStart(7)} ms`;

const full = measure(load);
const baseline = measure(yamlOnly);
console.log(`12 services, 2 databases, ${load()} manifests, ${text.length} bytes of YAML, ${iterations} iterations`);
console.log(row('parse+validate+hash+render+rules', full));
console.log(row('baseline: YAML parse only', baseline));
console.log(`ratio (median): ${(q(full.samples, 0.5) / q(baseline.samples, 0.5)).toFixed(2)}x the YAML parse alone; goal < 50 ms: ${q(full.samples, 0.95) < 50 && full.cold < 50 ? 'met' : 'NOT met'}`);
