/**
 * bench/results/profile-live-top.md and .json (bench/profileLive.ts): per label, the live-fleet
 * figures and, per process, CPU ms per read and the top functions by self time. Labels already
 * in the JSON file are kept (a label run again replaces its own entry), so profiles taken in
 * different trees — "before" in a worktree of the old code, "after" here — sit side by side.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFormatted, writePlain } from './files.js';

export interface TopEntry {
  readonly functionName: string;
  readonly location: string;
  readonly samples: number;
  readonly selfMs: number;
  readonly percent: number;
}

export interface ProcessProfile {
  /** router, users, sessions, fleet, cassandra; redis and harness have CPU figures only. */
  readonly name: string;
  readonly cpuSeconds: number;
  readonly cpuMsPerRead: number | null;
  /**
   * BENCH_LIVE_NET_OF: CPU ms per read without the writes' share — this run's CPU minus, per
   * write acknowledged here, the CPU per write of a writes-only run (readers 0) of that label.
   */
  readonly netCpuMsPerRead?: number | null;
  readonly peakRssMb: number;
  /** Where the full profile was written (not committed), if one was taken. */
  readonly profile?: string;
  readonly profiler?: 'v8 --cpu-prof' | 'jfr';
  readonly samples?: number;
  /** JFR: jdk.ExecutionSample's period. */
  readonly samplePeriodMs?: number;
  readonly idleSamples?: number;
  readonly windowed?: boolean;
  readonly top?: readonly TopEntry[];
  readonly threads?: readonly { readonly name: string; readonly samples: number }[];
}

export interface LiveProfileRecord {
  readonly label: string;
  readonly date: string;
  readonly node: string;
  readonly commit: string;
  readonly fleet: string;
  readonly seconds: number;
  readonly readers: number;
  readonly writesPerSecondAsked: number;
  readonly reads: number;
  readonly readsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly readErrors: number;
  readonly staleReads: number;
  readonly staleReadings: number;
  readonly unexplainedReadings: number;
  readonly hitRatio: number | null;
  readonly writes: {
    readonly acked: number;
    readonly failed: number;
    readonly perSecond: number;
    readonly p99Ms: number;
  };
  /** The writes-only label the net figures subtract (BENCH_LIVE_NET_OF). */
  readonly netOf?: string;
  /** Identities the readers and writers used in turn (BENCH_LIVE_IDENTITIES), if set. */
  readonly identities?: number;
  /** The machine's 1, 5 and 15 minute load averages at the end of the load (shared machine). */
  readonly loadAverage?: readonly number[];
  readonly processes: readonly ProcessProfile[];
}

export function mergeRecords(
  file: string,
  record: LiveProfileRecord,
): readonly LiveProfileRecord[] {
  const previous = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as LiveProfileRecord[])
    : [];
  const index = previous.findIndex((r) => r.label === record.label);
  if (index < 0) return [...previous, record];
  return previous.map((r, i) => (i === index ? record : r));
}

const cell = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined ? '–' : String(Number(value.toFixed(digits)));

/** The figures of every label in one table, a column per label. */
function sideBySide(records: readonly LiveProfileRecord[]): string[] {
  const names = [...new Set(records.flatMap((r) => r.processes.map((p) => p.name)))];
  const row = (title: string, pick: (r: LiveProfileRecord) => string) =>
    `| ${title} | ${records.map(pick).join(' | ')} |`;
  return [
    `| | ${records.map((r) => r.label).join(' | ')} |`,
    `| --- | ${records.map(() => '---:').join(' | ')} |`,
    row('reads/s', (r) => cell(r.readsPerSecond, 1)),
    row('read p50 / p99 ms', (r) => `${cell(r.p50Ms, 1)} / ${cell(r.p99Ms, 1)}`),
    row('stale reads (readings)', (r) => `${r.staleReads} (${r.staleReadings})`),
    row('read errors', (r) => String(r.readErrors)),
    row('cache hit ratio', (r) => cell(r.hitRatio, 3)),
    row('load average (1 min)', (r) => cell(r.loadAverage?.[0], 1)),
    row('writes/s acked (failed)', (r) => `${cell(r.writes.perSecond, 1)} (${r.writes.failed})`),
    ...names.map((name) =>
      row(`CPU ms/read: ${name}`, (r) =>
        cell(r.processes.find((p) => p.name === name)?.cpuMsPerRead, 3),
      ),
    ),
    row('CPU ms/read: all', (r) =>
      cell(
        r.processes.reduce((sum, p) => sum + (p.cpuMsPerRead ?? 0), 0),
        3,
      ),
    ),
    row('net of writes (writes-only label)', (r) => r.netOf ?? '–'),
    ...['router', 'users', 'sessions', 'fleet', 'cassandra'].map((name) =>
      row(`net CPU ms/read: ${name}`, (r) =>
        cell(r.processes.find((p) => p.name === name)?.netCpuMsPerRead, 3),
      ),
    ),
    row('net CPU ms/read: router + subgraphs + Cassandra', (r) =>
      r.netOf
        ? cell(
            r.processes
              .filter((p) => ['router', 'users', 'sessions', 'fleet', 'cassandra'].includes(p.name))
              .reduce((sum, p) => sum + (p.netCpuMsPerRead ?? 0), 0),
            3,
          )
        : '–',
    ),
  ];
}

function processSection(process: ProcessProfile): string[] {
  const head = `### ${process.name}: ${cell(process.cpuMsPerRead, 3)} CPU ms/read (${process.cpuSeconds} s CPU, peak RSS ${process.peakRssMb} MB)`;
  if (!process.top) return [head, '', 'CPU from /proc only (no profile).', ''];
  const jfr = process.profiler === 'jfr';
  const note = jfr
    ? `JFR execution samples (threads running Java code only, a few per ${process.samplePeriodMs ?? 10} ms period; self ms ≈ samples × period): ${process.samples} samples. Threads: ${(process.threads ?? []).map((t) => `${t.name} ${t.samples}`).join(', ')}.`
    : `V8 CPU profile, load window${process.windowed ? '' : ' not matched: whole process'}: ${process.samples} samples (${process.idleSamples} idle); ranked by samples (a tick after the process was descheduled carries the whole gap in self ms), percentages of busy samples.`;
  return [
    head,
    '',
    note,
    '',
    '| # | self % | self ms | samples | function | location |',
    '| ---: | ---: | ---: | ---: | --- | --- |',
    ...process.top.map(
      (e, i) =>
        `| ${i + 1} | ${e.percent.toFixed(1)} | ${e.selfMs.toFixed(0)} | ${e.samples} | \`${e.functionName}\` | \`${e.location}\` |`,
    ),
    '',
  ];
}

export function renderLiveProfiles(records: readonly LiveProfileRecord[]): string {
  const out = [
    '# CPU profiles under the live fleet (FleetDashboard reads during writes)',
    '',
    'Written by `npm run bench:profile-live -- --label <label>` (bench/profileLive.ts): our router (response cache on) and the three subgraphs, each under `node --cpu-prof`, and the Cassandra node under Java Flight Recorder, while 8 readers loop `FleetDashboard` (first: 100) on one fleet and ~30 writes/s go to its robots (bench/README.md, "Live fleet"). CPU ms per read: utime + stime from /proc over the load window ÷ reads (writes included, as in the live-fleet scenario; Cassandra and Redis are shared with the development stack, so their figures include anything else that ran meanwhile). Full profiles: `bench/results/profiles-live/<label>/` (not committed).',
    '',
    ...sideBySide(records),
    '',
  ];
  for (const r of records) {
    out.push(
      `## ${r.label}`,
      '',
      `${r.date}, commit ${r.commit}, Node ${r.node}; fleet ${r.fleet}, ${r.readers} readers, ${r.writesPerSecondAsked} writes/s asked, ${r.seconds} s: ${r.reads} reads (${r.readsPerSecond}/s), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.staleReads} stale reads (${r.staleReadings} readings, ${r.unexplainedReadings} unexplained), ${r.readErrors} read errors, hit ratio ${cell(r.hitRatio, 3)}; ${r.writes.acked} writes acked (${r.writes.perSecond}/s, p99 ${r.writes.p99Ms} ms), ${r.writes.failed} failed.`,
      '',
      ...r.processes.flatMap(processSection),
    );
  }
  return `${out.join('\n')}\n`;
}

export async function writeLiveProfiles(
  jsonFile: string,
  mdFile: string,
  record: LiveProfileRecord,
): Promise<readonly LiveProfileRecord[]> {
  const records = mergeRecords(jsonFile, record);
  await writeFormatted(jsonFile, JSON.stringify(records));
  writePlain(mdFile, renderLiveProfiles(records));
  return records;
}
