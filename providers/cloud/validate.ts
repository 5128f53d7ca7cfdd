// Checks untyped input (API bodies, workflow inputs) against a schema and names what is wrong.
import type { z } from 'zod';
import { invalidInput, type ErrorProvider } from './errors.js';

export interface InputContext {
  provider: ErrorProvider;
  operation: string;
  /** What the value is, for the message: `connection`, `account`. */
  what: string;
}

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, ctx: InputContext): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  throw invalidInput(ctx.provider, ctx.operation, `invalid ${ctx.what}: ${problems.join('; ')}`);
}
