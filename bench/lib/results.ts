/**
 * The shape of bench/results/results.json, and its renderings: results.md (a table per
 * scenario, rows per target × connections, with throughput ratios against the bare gateway and
 * the bare http ceiling) and chart.svg (requests/s per scenario and target at one connection
 * count, hand-written SVG on a log scale since the ceiling is an order of magnitude above).
 */
import type { LoadFigures } from './load.js';
import type { ResourceFigures } from './procstat.js';
import { renderLiveFleet } from '../livefleet/render.js';
import type { LiveFleetResult } from '../livefleet/types.js';
import { renderFanOut } from '../fanout/render.js';
import type { FanOutResult } from '../fanout/types.js';

export type TargetId =
  | 'router'
  | 'router-cache'
  | 'router-naive'
  | 'router-stock-executor'
  | 'bare-gateway'
  | 'bare-http';

export const TARGET_LABELS: Readonly<Record<TargetId, string>> = {
  router: 'our router (cache off)',
  'router-cache': 'our router (cache on)',
  'router-naive': 'our router, naive subgraphs',
  'router-stock-executor': 'our router (cache off), stock gateway executor',
  'bare-gateway': 'bare @apollo/gateway',
  'bare-http': 'bare node:http (ceiling)',
};

const TARGET_COLOURS: Readonly<Record<TargetId, string>> = {
  router: '#1f77b4',
  'router-cache': '#2ca02c',
  'router-naive': '#9467bd',
  'router-stock-executor': '#17becf',
  'bare-gateway': '#ff7f0e',
  'bare-http': '#7f7f7f',
};

export interface RunResult {
  readonly target: TargetId;
  readonly load: LoadFigures;
  /** Requests/s of every interleaved round; `load` is the median round's. */
  readonly roundsRequestsPerSecond?: readonly number[];
  /** Counter deltas divided by the run's responses; null where the target has no such counter. */
  readonly perRequest: {
    /** fleetgraph_router_subgraph_fetches_total (our router) — the router's own count. */
    readonly routerSubgraphFetches: number | null;
    /** Requests the subgraphs received (their own counters): works for every target. */
    readonly subgraphRequests: number | null;
    readonly cassandraStatements: number | null;
    readonly loaderBatches: number | null;
  };
  readonly cache: {
    readonly hits: number;
    readonly misses: number;
    /** hits / (hits + misses). */
    readonly hitRatio: number;
  } | null;
  readonly resources: {
    readonly target: ResourceFigures;
    readonly subgraphs: ResourceFigures | null;
    /** The shared data stores (not started by the harness; sampled, never signalled). */
    readonly cassandra: ResourceFigures | null;
    readonly redis: ResourceFigures | null;
    /** The harness itself (autocannon): on a small machine it competes for the same cores. */
    readonly loadGenerator: { readonly cpuSeconds: number };
  };
}

export interface SampleCheck {
  readonly ok: boolean;
  readonly status: number;
  readonly bytes: number;
  readonly note?: string;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly targets: readonly TargetId[];
  /** Size of our router's response, which the bare http server replays. */
  readonly responseBytes: Readonly<Record<string, number>>;
  /** One request per target before its runs: status 200, no GraphQL errors, similar size. */
  readonly sampleChecks: Partial<Record<TargetId, SampleCheck>>;
  /** Router-bound only: subgraph fetches one operation makes, counted at the subgraphs. */
  readonly fetchesPerOperation?: number;
  readonly runs: readonly RunResult[];
  readonly failures: readonly string[];
  /** The live-fleet scenario's own figures (its `runs` and `targets` are empty). */
  readonly liveFleet?: LiveFleetResult;
  /** The fan-out scenario's own figures (its `runs` and `targets` are empty). */
  readonly fanOut?: FanOutResult;
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly wallSeconds: number;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGb: number;
    readonly node: string;
    readonly platform: string;
  };
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly seed: { readonly scale: string; readonly seconds: number };
  readonly scenarios: readonly ScenarioResult[];
  readonly failures: readonly string[];
}

const fixed = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '–' : value.toFixed(digits);

function ratio(value: number, base: number | undefined): string {
  if (!base || base <= 0) return '–';
  const r = value / base;
  // Two significant digits below 0.1 (a router at 0.3% of the ceiling is not "0.00×").
  return `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

/**
 * The median over rounds of (this target's round i ÷ the baseline's round i). Round i of every
 * target ran within the same minute (the rounds interleave the targets), so pairing them
 * cancels the machine's drift between rounds, which the ratio of two medians does not: on a
 * shared 2-core machine one target's median round and the baseline's can come from different
 * stretches. Undefined without rounds on both sides.
 */
export function pairedRatio(
  rounds: readonly number[] | undefined,
  baselineRounds: readonly number[] | undefined,
): number | undefined {
  if (!rounds?.length || rounds.length !== baselineRounds?.length) return undefined;
  const ratios = rounds
    .map((value, i) => value / baselineRounds[i]!)
    .filter((r) => Number.isFinite(r))
    .sort((a, b) => a - b);
  if (ratios.length === 0) return undefined;
  const middle = Math.floor(ratios.length / 2);
  return ratios.length % 2 ? ratios[middle] : (ratios[middle - 1]! + ratios[middle]!) / 2;
}

export function renderMarkdown(results: BenchResults): string {
  const out: string[] = [];
  out.push('# Fleetgraph benchmark results', '');
  out.push(
    `Generated ${results.generatedAt} by \`npm run bench\` (bench/run.ts) in ${Math.round(results.wallSeconds)} s on ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGb} GB, Node ${results.machine.node} (${results.machine.platform}).`,
    '',
  );
  out.push(
    'Settings: ' +
      Object.entries(results.settings)
        .map(([key, value]) => `${key}=${value}`)
        .join(', ') +
      '.',
    '',
  );
  out.push(
    '- Every request carries a distinct caller (its own JWT from a pre-minted pool, or one of several partner keys), so a router cannot answer many users with one execution.',
    '- **req/s** counts completed responses; **errors** = non-2xx + transport errors + 2xx responses with GraphQL `errors` (every response body is checked).',
    '- **fetches/req**: our router: `fleetgraph_router_subgraph_fetches_total`; other targets: requests the subgraphs received. **CQL/req** and **batches/req**: `fleetgraph_cassandra_statements_total` and `fleetgraph_dataloader_batches_total` deltas over the subgraphs, per response.',
    '- **RSS**: peak VmRSS during the run (subgraphs: the three together); **CPU s**: utime + stime over the run (Cassandra: the shared node; load gen: autocannon in the harness). Everything shares the same cores.',
    '- **× gw** / **× http**: req/s relative to the bare @apollo/gateway and to the bare node:http ceiling at the same connection count (median against median). **paired**: the median of the per-round ratios — round i of every target runs in the same stretch of time, so this one cancels the drift between rounds.',
    `- Each run lasts durationSeconds, or longer (up to 5 s) for a target whose warm-up rate would give it fewer than minResponses responses (results.json has each run's seconds).`,
    `- The load generator, the servers, Cassandra and Redis share ${results.machine.cpus} cores: the real-stack scenarios are bound by the subgraphs and Cassandra, the ceiling by the load generator. Where throughput is low, 64 connections overload the target (latency ≈ connections ÷ req/s) and p99 is capped by the run length (requests unfinished at the end are not counted); figures of overloaded runs and of short runs are rough — BENCH_DURATION=8 steadies them.`,
    '',
  );
  if (results.failures.length > 0) {
    out.push('## Failures', '', ...results.failures.map((f) => `- ${f}`), '');
  }
  for (const scenario of results.scenarios) {
    out.push(`## ${scenario.title}`, '', scenario.description, '');
    const sizes = Object.entries(scenario.responseBytes)
      .map(
        ([key, bytes]) =>
          `${key} ${bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`}`,
      )
      .join(', ');
    out.push(
      `Response size: ${sizes || '–'}.` +
        (scenario.fetchesPerOperation !== undefined
          ? ` Subgraph fetches per operation (counted at the subgraphs): ${scenario.fetchesPerOperation}.`
          : ''),
      '',
    );
    const checks = Object.entries(scenario.sampleChecks) as [TargetId, SampleCheck][];
    const notes = checks.filter(([, check]) => !check.ok || check.note);
    if (!scenario.liveFleet && !scenario.fanOut)
      out.push(
        notes.length === 0
          ? `Sample check: one request per target before its runs answered 200 without GraphQL errors (${checks.length} targets).`
          : `Sample check notes: ${notes.map(([target, check]) => `${TARGET_LABELS[target]}: ${check.ok ? '' : `failed (${check.status}) `}${check.note ?? ''}`).join('; ')}.`,
        '',
      );
    for (const failure of scenario.failures) out.push(`- **failure**: ${failure}`);
    if (scenario.failures.length) out.push('');
    if (scenario.liveFleet) {
      out.push(...renderLiveFleet(scenario.liveFleet), '');
      continue;
    }
    if (scenario.fanOut) {
      out.push(...renderFanOut(scenario.fanOut), '');
      continue;
    }
    out.push(
      '| target | conns | req/s (rounds min–max) | p50 ms | p95 ms | p99 ms | errors | fetches/req | CQL/req | batches/req | cache hits | target RSS MB | target CPU s | subgraphs RSS MB | subgraphs CPU s | Cassandra CPU s | load gen CPU s | × gw | × http | × gw paired | × http paired |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    const baselineRun = (target: TargetId, connections: number) =>
      scenario.runs.find((r) => r.target === target && r.load.connections === connections);
    const baseline = (target: TargetId, connections: number) =>
      baselineRun(target, connections)?.load.requestsPerSecond;
    const paired = (run: RunResult, target: TargetId) => {
      const value = pairedRatio(
        run.roundsRequestsPerSecond,
        baselineRun(target, run.load.connections)?.roundsRequestsPerSecond,
      );
      return value === undefined ? '–' : ratio(value, 1);
    };
    for (const run of scenario.runs) {
      const { load, perRequest, resources } = run;
      const fetches = perRequest.routerSubgraphFetches ?? perRequest.subgraphRequests;
      out.push(
        `| ${TARGET_LABELS[run.target]} | ${load.connections} | ${fixed(load.requestsPerSecond, 0)}${spread(run.roundsRequestsPerSecond)} | ${fixed(load.latencyMs.p50)} | ${fixed(load.latencyMs.p95)} | ${fixed(load.latencyMs.p99)} | ${load.errors.total} | ${fixed(fetches, 2)} | ${fixed(perRequest.cassandraStatements, 1)} | ${fixed(perRequest.loaderBatches, 2)} | ${run.cache ? `${(run.cache.hitRatio * 100).toFixed(0)}%` : '–'} | ${fixed(resources.target.peakRssMb, 0)} | ${fixed(resources.target.cpuSeconds, 1)} | ${fixed(resources.subgraphs?.peakRssMb, 0)} | ${fixed(resources.subgraphs?.cpuSeconds, 1)} | ${fixed(resources.cassandra?.cpuSeconds, 1)} | ${fixed(resources.loadGenerator.cpuSeconds, 1)} | ${ratio(load.requestsPerSecond, baseline('bare-gateway', load.connections))} | ${ratio(load.requestsPerSecond, baseline('bare-http', load.connections))} | ${paired(run, 'bare-gateway')} | ${paired(run, 'bare-http')} |`,
      );
    }
    const errorSamples = scenario.runs.filter((r) => r.load.errors.sample);
    if (errorSamples.length > 0) {
      out.push('', 'First error seen per run with errors:', '');
      for (const run of errorSamples) {
        out.push(
          `- ${TARGET_LABELS[run.target]}, ${run.load.connections} conns: \`${run.load.errors.sample!.replace(/`/g, "'").slice(0, 200)}\``,
        );
      }
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Grouped bars: one group per scenario, one bar per target, requests/s on a log10 axis. */
export function renderChart(results: BenchResults, connections: number): string {
  const groups = results.scenarios
    .map((scenario) => ({
      // Ids, not titles: they fit under a group of bars.
      title: scenario.id,
      bars: scenario.targets
        .map((target) => ({
          target,
          value:
            scenario.runs.find((r) => r.target === target && r.load.connections === connections)
              ?.load.requestsPerSecond ?? 0,
        }))
        .filter((bar) => bar.value > 0),
    }))
    .filter((group) => group.bars.length > 0);
  const maxValue = Math.max(10, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const topDecade = Math.ceil(Math.log10(maxValue));
  const bottomDecade = 0; // 1 req/s
  const barWidth = 22;
  const barGap = 4;
  const groupGap = 36;
  const left = 70;
  const top = 60;
  const plotHeight = 320;
  const groupWidths = groups.map((g) => g.bars.length * (barWidth + barGap) - barGap);
  const plotWidth = groupWidths.reduce((sum, w) => sum + w + groupGap, groupGap);
  const legendTargets = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.target)))];
  const width = left + plotWidth + 20;
  const height = top + plotHeight + 70 + 22 * Math.ceil(legendTargets.length / 3);
  const y = (value: number) =>
    top +
    plotHeight -
    ((Math.log10(Math.max(1, value)) - bottomDecade) / (topDecade - bottomDecade)) * plotHeight;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="24" font-size="16" font-weight="bold">Requests per second at ${connections} connections (log scale)</text>`,
    `<text x="${left}" y="44" fill="#555555">${escapeXml(`${results.machine.cpus} CPUs, Node ${results.machine.node}, ${results.generatedAt.slice(0, 10)}; every request a distinct caller`)}</text>`,
  );
  for (let decade = bottomDecade; decade <= topDecade; decade++) {
    const lineY = y(10 ** decade).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${lineY}" y2="${lineY}" stroke="#dddddd"/>`,
      `<text x="${left - 8}" y="${lineY}" text-anchor="end" dominant-baseline="middle" fill="#555555">${(10 ** decade).toLocaleString('en')}</text>`,
    );
  }
  let x = left + groupGap;
  groups.forEach((group, g) => {
    for (const bar of group.bars) {
      const barTop = y(bar.value);
      parts.push(
        `<rect x="${x}" y="${barTop.toFixed(1)}" width="${barWidth}" height="${(top + plotHeight - barTop).toFixed(1)}" fill="${TARGET_COLOURS[bar.target]}"><title>${escapeXml(`${group.title} — ${TARGET_LABELS[bar.target]}: ${bar.value.toFixed(0)} req/s`)}</title></rect>`,
        `<text x="${x + barWidth / 2}" y="${(barTop - 4).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333333">${bar.value >= 100 ? bar.value.toFixed(0) : bar.value.toFixed(1)}</text>`,
      );
      x += barWidth + barGap;
    }
    const centre = x - barGap - groupWidths[g]! / 2;
    parts.push(
      `<text x="${centre.toFixed(1)}" y="${top + plotHeight + 18}" text-anchor="middle" font-size="11">${escapeXml(group.title)}</text>`,
    );
    x += groupGap - barGap;
  });
  parts.push(
    `<line x1="${left}" x2="${left + plotWidth}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333333"/>`,
  );
  legendTargets.forEach((target, i) => {
    const legendX = left + (i % 3) * 260;
    const legendY = top + plotHeight + 44 + Math.floor(i / 3) * 22;
    parts.push(
      `<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${TARGET_COLOURS[target]}"/>`,
      `<text x="${legendX + 18}" y="${legendY}">${escapeXml(TARGET_LABELS[target])}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** ` (min–max)` of the interleaved rounds' requests/s, when there were several. */
function spread(rounds: readonly number[] | undefined): string {
  if (!rounds || rounds.length < 2) return '';
  return ` (${Math.min(...rounds).toFixed(0)}–${Math.max(...rounds).toFixed(0)})`;
}
