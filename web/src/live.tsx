// The app's shared state: who the caller is (GET /v1/me), the dashboard's config (Temporal UI
// link), and the live events of GET /v1/events, handed to every page that listens.
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { SseEvent, StreamState } from './sse';
import type { DashboardConfig, Me, Tier } from './types';

export interface Session {
  me: Me;
  config: DashboardConfig;
  stream: StreamState;
  subscribe(listener: (event: SseEvent) => void): () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}

/** May the caller do `action` on every one of these tiers? (The API decides again.) */
export function may(me: Me, action: string, tiers: readonly Tier[]): boolean {
  const allowed = me.permissions[action]?.tiers;
  return !!allowed && tiers.every((t) => allowed.includes(t));
}

/** Calls `handler` for each live event (the latest handler, without resubscribing). */
export function useLiveEvents(handler: (event: SseEvent) => void): void {
  const { subscribe } = useSession();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => subscribe((e) => ref.current(e)), [subscribe]);
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** When the last successful load finished. */
  at: number | undefined;
  reload(): void;
}

/**
 * Loads `load()` now, again every `everyMs` (the fallback when live events do not arrive) and
 * whenever reload() is called; keeps the last data while reloading and while failing.
 */
export function useLoad<T>(load: (signal: AbortSignal, previous: T | undefined) => Promise<T>, deps: unknown[], everyMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; at: number | undefined }>({ data: undefined, error: undefined, loading: true, at: undefined });
  const [tick, setTick] = useState(0);
  const dataRef = useRef<T | undefined>(undefined);
  const depsKey = JSON.stringify(deps);
  const lastKey = useRef(depsKey);
  useEffect(() => {
    if (lastKey.current !== depsKey) {
      lastKey.current = depsKey;
      dataRef.current = undefined;
      setState({ data: undefined, error: undefined, loading: true, at: undefined });
    }
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal, dataRef.current).then(
      (data) => {
        if (controller.signal.aborted) return;
        dataRef.current = data;
        setState({ data, error: undefined, loading: false, at: Date.now() });
      },
      (error: unknown) => {
        if (controller.signal.aborted || (error as Error).name === 'AbortError') return;
        setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [depsKey, tick]);
  useEffect(() => {
    if (!everyMs) return;
    const t = setInterval(() => setTick((n) => n + 1), everyMs);
    return () => clearInterval(t);
  }, [everyMs, depsKey]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}
