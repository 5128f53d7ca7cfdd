import { z } from 'zod';

/** A DNS-1123 label: what Kubernetes accepts as a namespace or object name. */
export const DnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and "-", starting and ending with a letter or digit');

/** Label keys and values as Kubernetes allows them. */
export const LabelKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'is not a valid label key');
export const LabelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'is not a valid label value');
export const Labels = z.record(LabelKey, LabelValue);

export const API_VERSION = 'flotilla.dev/v1';
