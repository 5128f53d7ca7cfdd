// What another process costs, read from Linux's /proc: its CPU seconds (user + system, all its
// threads: the worker's Rust core and workflow threads, the Temporal server's goroutines) and
// its resident memory, sampled often enough to catch the peak of a run.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat (USER_HZ: 100 on every Linux this runs on). */
const TICKS = 100;

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime (fields 14, 15)
}

/** Resident set size in bytes now. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** The pid of the one process whose command line contains `needle` (e.g. a unique file path). */
export function findProcess(needle: string): number {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  if (found.length !== 1) throw new Error(`expected one process with "${needle}" in its command line, found ${found.length}`);
  return found[0]!;
}

export interface Usage {
  cpuSeconds: number;
  peakRssBytes: number;
  /** RSS when the measurement started, and when it stopped. */
  startRssBytes: number;
  endRssBytes: number;
}

/** Samples the process's RSS every `everyMs` until stop(); CPU is the difference of two readings. */
export function measure(pid: number, everyMs = 200): { stop(): Usage } {
  const cpu0 = cpuSeconds(pid);
  const startRssBytes = rssBytes(pid);
  let peak = startRssBytes;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process ended: the bench notices elsewhere
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const endRssBytes = rssBytes(pid);
      return { cpuSeconds: cpuSeconds(pid) - cpu0, peakRssBytes: Math.max(peak, endRssBytes), startRssBytes, endRssBytes };
    },
  };
}
