import { validateDocument } from '../../domain/documents.js';
import { environmentFromDocument, type Environment } from '../../domain/environment.js';
import { shopEnvironment } from './fixtures.js';

/** The shop fixture, validated and split into binding, spec and overrides. */
export function shop(options: Parameters<typeof shopEnvironment>[0] = {}): Environment {
  const result = validateDocument(shopEnvironment(options));
  if (!result.ok || result.value.kind !== 'Environment') throw new Error(`fixture invalid: ${JSON.stringify(result)}`);
  return environmentFromDocument(result.value);
}

/** The same value with every object's keys in a shuffled order. */
export function shuffleKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, random));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, random)]));
  }
  return value;
}
