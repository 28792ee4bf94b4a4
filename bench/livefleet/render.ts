/** The live-fleet scenario's section of results.md. */
import {
  LIVE_VARIANT_LABELS,
  type LiveFigures,
  type LiveFleetResult,
  type Percentiles,
} from './types.js';

const ms = (p: Percentiles | null, key: keyof Percentiles) => (p ? p[key].toFixed(1) : '–');
const percent = (ratio: number | null) => (ratio === null ? '–' : `${(ratio * 100).toFixed(0)}%`);

function row(label: string, round: string, f: LiveFigures): string {
  const hitsByCache = Object.entries(f.stale.readsByXCache)
    .map(([header, count]) => `${header} ${count}`)
    .join(', ');
  return `| ${label} | ${round} | ${f.readsPerSecond.toFixed(0)} | ${f.freshReadsPerSecond.toFixed(0)} | ${f.latencyMs.p50.toFixed(1)} | ${f.latencyMs.p99.toFixed(1)} | ${percent(f.hitRatio)} | ${f.writes.perSecond.toFixed(1)} | ${f.writes.failed} | **${f.stale.reads}**${hitsByCache ? ` (${hitsByCache})` : ''} | ${f.stale.readings} | ${ms(f.stale.windowMs, 'p50')} | ${ms(f.stale.windowMs, 'p99')} | ${ms(f.stale.windowMs, 'max')} | ${ms(f.stale.sinceFirstMissedMs, 'max')} | ${f.stale.unexplainedReadings} | ${f.readErrors} |`;
}

export function renderLiveFleet(result: LiveFleetResult): string[] {
  const out: string[] = [];
  const s = result.settings;
  out.push(
    `Fleet (0, ${result.fleet.index}) (${result.fleet.id}), ${result.fleet.robots} robots on the dashboard; ${s.readers} readers, ${s.writesPerSecond} writes/s asked (${s.statusShare}); ${s.rounds} interleaved rounds of ${s.seconds} s per variant. Routers: ${s.routerEnvironment}; hits counted by ${s.hitCounting}; callers: ${s.callers ?? 'a new identity for every read and write'}.`,
    '',
    '- A **stale reading** is a robot whose `lastHeartbeatAt` or `batteryPercent`/`status` in a response is older than the newest write to that robot acknowledged (HTTP 200, no errors) before the read started (same process, monotonic clock); a **stale read** has at least one (in brackets: by `x-cache`). **staleness** = read start − ack of the newest write the reading missed; **since 1st missed** = read start − ack of the first write it missed. **unexplained** readings match no write and not the state before the run: must be 0.',
    '- Rows per round, then all rounds pooled; **fresh reads/s** counts reads without a stale reading. **writes/s**: acknowledged writes per second of load.',
    '',
    '| variant | round | reads/s | fresh reads/s | p50 ms | p99 ms | hits | writes/s | write failures | stale reads | stale readings | staleness p50 ms | p99 ms | max ms | since 1st missed max ms | unexplained | read errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const variant of result.variants) {
    const label = LIVE_VARIANT_LABELS[variant];
    for (const run of result.runs.filter((r) => r.variant === variant))
      out.push(row(label, String(run.round), run));
    const total = result.totals.find((t) => t.variant === variant);
    if (total) out.push(row(`**${label}**`, 'all', total));
  }
  const groups = [...new Set(result.totals.flatMap((total) => Object.keys(total.resources)))].sort(
    (a, b) => order(a) - order(b),
  );
  out.push(
    '',
    'CPU ms per read (all rounds; the writes running meanwhile are included), and peak RSS MB:',
    '',
    `| variant | ${groups.join(' | ')} |`,
    `| --- | ${groups.map(() => '---:').join(' | ')} |`,
  );
  for (const total of result.totals) {
    const cells = groups.map((group) => {
      const figure = total.resources[group];
      return figure
        ? `${figure.cpuMsPerRead === null ? '–' : figure.cpuMsPerRead.toFixed(2)} (${figure.peakRssMb.toFixed(0)} MB)`
        : '–';
    });
    out.push(`| ${LIVE_VARIANT_LABELS[total.variant]} | ${cells.join(' | ')} |`);
  }
  const notes = [...result.runs, ...result.totals].flatMap((f) =>
    [f.readErrorSample, f.writes.failureSample, f.stale.unexplainedSample].filter(Boolean),
  );
  if (notes.length) {
    out.push('', 'First problems seen:', '');
    for (const note of [...new Set(notes)].slice(0, 5))
      out.push(`- \`${note!.replace(/`/g, "'").slice(0, 200)}\``);
  }
  return out;
}

const GROUP_ORDER = [
  'router',
  'router-writes',
  'router-reads',
  'users',
  'sessions',
  'fleet',
  'cassandra',
  'redis',
  'harness',
];
const order = (group: string) => {
  const index = GROUP_ORDER.indexOf(group);
  return index < 0 ? GROUP_ORDER.length : index;
};
