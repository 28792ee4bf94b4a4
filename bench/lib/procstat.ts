/**
 * Per-process resource figures from Linux /proc, sampled every 200 ms during a load run:
 * VmRSS (/proc/<pid>/status) and CPU time, utime + stime (/proc/<pid>/stat, in clock ticks).
 * Processes are grouped (e.g. the three subgraphs): a group's peak RSS is the highest *sum* of
 * its members' RSS at one sample, its CPU time the sum of its members' deltas.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ResourceFigures {
  readonly peakRssMb: number;
  readonly cpuSeconds: number;
}

const SAMPLE_INTERVAL_MS = 200;

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every usual kernel). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields are counted after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
}

/** Resident set size of a process now, in kB (VmRSS); throws once it has exited. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

export class ResourceSampler {
  private readonly startTicks = new Map<number, number>();
  private readonly peakKb = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly groups: Readonly<Record<string, readonly number[]>>) {}

  start(): void {
    for (const pids of Object.values(this.groups)) {
      for (const pid of pids)
        this.startTicks.set(
          pid,
          safe(() => cpuTicks(pid)),
        );
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
  }

  stop(): Record<string, ResourceFigures> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const figures: Record<string, ResourceFigures> = {};
    for (const [group, pids] of Object.entries(this.groups)) {
      const ticks = pids.reduce(
        (sum, pid) =>
          sum + Math.max(0, safe(() => cpuTicks(pid)) - (this.startTicks.get(pid) ?? 0)),
        0,
      );
      figures[group] = {
        peakRssMb: round((this.peakKb.get(group) ?? 0) / 1024, 1),
        cpuSeconds: round(ticks / CLOCK_TICKS, 2),
      };
    }
    return figures;
  }

  private sample(): void {
    for (const [group, pids] of Object.entries(this.groups)) {
      const total = pids.reduce((sum, pid) => sum + safe(() => rssKb(pid)), 0);
      this.peakKb.set(group, Math.max(this.peakKb.get(group) ?? 0, total));
    }
  }
}

/** A process that exited between samples counts as 0 rather than failing the run. */
function safe(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Pids of running processes whose command line contains `needle` (e.g. the Cassandra node or
 * Redis): only read, to attribute CPU time during runs; this harness never signals them.
 */
export function findPids(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle) && Number(entry) !== process.pid) pids.push(Number(entry));
    } catch {
      // the process exited while the list was read
    }
  }
  return pids;
}
