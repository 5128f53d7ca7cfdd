// Every signal, query and update the workflows define, in one place, so clients (API, CLI,
// tests) and workflows share one definition.
import { defineQuery } from '@temporalio/workflow';

export interface OnboardingState {
  cluster: string;
  phase: 'resolving' | 'unreachable' | 'checking-version' | 'installing-baseline' | 'reading-capacity' | 'ready' | 'failed';
  attempts: number;
  message?: string;
}

export const onboardingStateQuery = defineQuery<OnboardingState>('onboardingState');
