// Server-sent events over fetch: EventSource cannot send an Authorization header, so the
// stream is read by hand and split into events (the text/event-stream format: `event:`,
// `data:` lines, a blank line ends an event, lines starting with `:` are comments).
import { auth, authHeaders, REFUSED } from './api';
import { SseParser, type SseEvent } from './sse-parser';

export type { SseEvent } from './sse-parser';

export type StreamState = 'connecting' | 'live' | 'down';

export interface StreamOptions {
  onEvent(event: SseEvent): void;
  onState?(state: StreamState, detail?: string): void;
  /** Reconnect after the stream ends or fails (default true), with backoff. */
  reconnect?: boolean;
}

/** Reads an SSE stream with the token until the returned function is called. */
export function openStream(path: string, options: StreamOptions): () => void {
  const controller = new AbortController();
  let attempt = 0;
  const run = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      options.onState?.('connecting');
      let detail = '';
      try {
        const res = await fetch(path, { headers: { accept: 'text/event-stream', ...authHeaders() }, signal: controller.signal, cache: 'no-store' });
        if (res.status === 401) {
          auth.signOut(REFUSED);
          return;
        }
        if (!res.ok || !res.body) {
          detail = `${path} answered ${res.status}`;
        } else {
          attempt = 0;
          options.onState?.('live');
          const parser = new SseParser(options.onEvent);
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.push(value);
          }
          parser.push('\n\n');
          detail = 'the stream ended';
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        detail = (error as Error).message;
      }
      if (options.reconnect === false || controller.signal.aborted) {
        options.onState?.('down', detail);
        return;
      }
      options.onState?.('down', detail);
      attempt++;
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
    }
  };
  void run();
  return () => controller.abort();
}
