/** The fan-out scenario's section of results.md. */
import type { FanOutResult, WindowResources } from './types.js';

const n = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '–' : value.toFixed(digits);

const GROUPS = ['router', 'users', 'sessions', 'fleet', 'cassandra', 'redis', 'harness'];

function resourceRow(label: string, w: WindowResources): string {
  const cells = GROUPS.map((group) => {
    const figure = w.groups[group];
    return figure ? `${figure.cpuSeconds.toFixed(2)} (${figure.peakRssMb.toFixed(0)} MB)` : '–';
  });
  return `| ${label} | ${w.seconds.toFixed(1)} | ${cells.join(' | ')} | ${w.stackCpuSeconds.toFixed(2)} | ${(w.stackCpuSeconds / w.seconds).toFixed(2)} |`;
}

export function renderFanOut(r: FanOutResult): string[] {
  const s = r.settings;
  const d = r.delivery;
  const c = r.comparison;
  const out: string[] = [
    `Fleet (0, ${r.fleet.index}) (${r.fleet.id}), ${r.robots} robots written round-robin. ${s.subscribers} subscribers asked, ${s.users} users × ${s.subscriptionsPerUser} (opened ${s.openBatch} at a time); ${s.eventsPerSecond} writes/s for ${s.seconds} s. Router settings for the load: ${Object.entries(
      s.routerEnv,
    )
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}; rate limits off as in every scenario.`,
    '',
    '**Acceptance** (issue 18):',
    '',
    '| check | measured | result |',
    '| --- | --- | --- |',
    ...r.acceptance.map((a) => `| ${a.check} | ${a.measured} | **${a.pass ? 'PASS' : 'FAIL'}** |`),
    '',
    '| subscribers established | open s (p99 ms) | writes acked (failed) | writes/s | write p99 ms | events expected per subscriber | deliveries received / expected | lost | duplicates | streams ended early | delivery p50 ms | p99 ms | max ms | received before ack | events/s delivered | router CPU ms / delivered event | router CPU ms / write | router peak RSS MB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${r.open.opened} (${r.open.refused} refused) | ${n(r.open.seconds)} (${r.open.latencyMs.p99}) | ${r.writes.acked} (${r.writes.failed}) | ${n(r.writes.perSecond)} | ${n(r.writes.latencyMs.p99)} | ${d.eventsExpected} | ${d.receivedTotal} / ${d.expectedTotal} | **${d.lost}** | ${d.duplicates} | ${d.streamsEnded} | ${n(d.latencyMs.p50)} | **${n(d.latencyMs.p99)}** | ${n(d.latencyMs.max)} | ${d.receivedBeforeAck} | ${d.eventsPerSecond} | ${n(r.router.cpuMsPerDelivered, 4)} | ${n(r.router.cpuMsPerWrite, 2)} | ${n(r.router.peakRssMb)} |`,
    '',
    `- **Delivery latency** = receipt by a subscriber − acknowledgement of the write (HTTP 200 of its updateRobotStatus read by the harness; one process, one monotonic clock); an event received before its write's ack (it is appended before the mutation answers) counts 0. Events matched to writes ${d.matching}; ${d.unmatchedEvents} events matched no write${d.warmupLeftovers ? ` (and ${d.warmupLeftovers} events of the warm-up's writes arrived only during the window: not counted)` : ''}; ${d.showedLaterWrite} events already showed a later write of their robot when delivered (the router reads the robot at delivery). ${(d.crossSubgraphShare * 100).toFixed(0)}% of events had \`robot.operator { displayName activeSessionCount }\` resolved (users and sessions subgraphs).`,
    `- **Where the latency is**: per event, first receipt by any subscriber − ack p50 ${n(d.firstReceiptMs.p50)} / p99 ${n(d.firstReceiptMs.p99)} ms (the event's execution); last receipt − first p50 ${n(d.spreadMs.p50)} / p99 ${n(d.spreadMs.p99)} ms (writing it to every subscriber, and the harness reading them). Delivery p99 per 5 s of writes: ${d.p99ByFiveSecondsMs.map((v) => n(v)).join(', ')} ms.` +
      (r.router.metrics
        ? ` Inside the router (its histograms, bucket-interpolated): an event's execution p50 ${n(r.router.metrics.executionMs.p50)} / p99 ${n(r.router.metrics.executionMs.p99)} ms; subgraph fetches p50 / p99 ${Object.entries(
            r.router.metrics.fetchMs,
          )
            .map(([subgraph, f]) => `${subgraph} ${n(f.p50)} / ${n(f.p99)}`)
            .join(', ')} ms (the writes' fetches included).`
        : ''),
    `- **events/s delivered** = deliveries ÷ ${n(d.windowSeconds, 2)} s (first write → last receipt). Router peak RSS: VmHWM after the window (since start); sampled during the window: ${n(r.router.windowPeakRssMb)} MB.` +
      (r.router.metrics
        ? ` Router counters over the window: ${r.router.metrics.delivered} deliveries, ${r.router.metrics.executions} event executions (one per event per group: ${r.open.routerGroups ?? '?'} groups, subscribers share a group per user)` +
          (Object.keys(r.router.metrics.ended).length
            ? `, subscriptions ended: ${Object.entries(r.router.metrics.ended)
                .map(([code, count]) => `${code} ${count}`)
                .join(', ')}`
            : '') +
          '.'
        : ''),
    '',
    '**CPU seconds (peak RSS) per process over each window**, and the stack (router + users + sessions + fleet + Cassandra; Redis and the harness apart):',
    '',
    `| window | s | ${GROUPS.join(' | ')} | stack CPU s | stack cores |`,
    `| --- | ---: | ${GROUPS.map(() => '---:').join(' | ')} | ---: | ---: |`,
    resourceRow('writes only (no subscriber)', r.resources.writesOnly),
    resourceRow(`fan-out (${r.open.opened} subscribers)`, r.resources.fanOut),
    resourceRow(`polling (${r.polling.connections} connections + writes)`, r.resources.polling),
    '',
    `**Polling**: FleetDashboard (first: 100), ${r.polling.connections} connections, closed loop, ${n(r.polling.seconds)} s with the writes running (${r.polling.writesAcked} acknowledged): ${r.polling.dashboards} dashboards (${n(r.polling.perSecond)}/s, p50 ${n(r.polling.latencyMs.p50)} ms, p99 ${n(r.polling.latencyMs.p99)} ms, ${r.polling.errors} errors, response cache hit ratio ${r.polling.cacheHitRatio === null ? '–' : `${(r.polling.cacheHitRatio * 100).toFixed(0)}%`}).`,
    '',
    `**${c.consoles} consoles, subscriptions vs polling each second** — CPU ms per console-second, and the cores it takes for ${c.consoles} consoles:`,
    '',
    '| processes | CPU ms / write | CPU ms / dashboard (net of writes) | subscriptions: ms / console-s | cores (measured) | polling: ms / console-s | cores (extrapolated) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...c.rows.map(
      (row) =>
        `| ${row.scope} | ${n(row.cpuMsPerWrite, 2)} | ${n(row.cpuMsPerDashboardGross, 2)} (${n(row.cpuMsPerDashboardNet, 2)}) | ${n(row.subscriptionCpuMsPerConsoleSecond, 3)} | ${n(row.subscriptionCores, 2)} | ${n(row.pollingCpuMsPerConsoleSecond, 3)} | ${n(row.pollingCores, 1)} |`,
    ),
    '',
    `- Subscriptions: the fan-out window's CPU ÷ (subscribers × seconds), the writes included — measured with ${c.consoles} subscribers. Polling: the writes' CPU (CPU ms per write from the writes-only window × ${s.eventsPerSecond}/s) ÷ consoles + one dashboard's CPU net of the writes (the polling window's CPU − its writes × CPU ms per write, ÷ dashboards) — **extrapolated** from the CPU one dashboard costs at the rate this machine sustains (${n(r.polling.perSecond)}/s): it does not serve ${c.consoles} dashboards/s.`,
    '- Cassandra and Redis are shared with whatever else runs on the machine, so their CPU includes it; the second row leaves Cassandra out. The net figures subtract CPU measured in another window: on a busy machine they are noisy (a net dashboard below 0 shows as 0).',
    `- The polling extrapolation keeps the cache hit ratio measured here (${r.polling.cacheHitRatio === null ? '–' : `${(r.polling.cacheHitRatio * 100).toFixed(0)}%`} at ${n(r.polling.perSecond)} dashboards/s against ${s.eventsPerSecond} writes/s purging it); at ${c.consoles} polls/s the same purges would leave more hits, so it is an upper bound for polling.`,
    ...(d.streamsEnded > 0
      ? [
          `- **${d.streamsEnded} of ${r.open.opened} streams ended during the window**: the subscriptions' CPU covers a window in which they no longer received events, so it understates what delivering every event costs.`,
        ]
      : []),
  ];
  const notes = [
    r.open.refusalSample && `refused: ${r.open.refusalSample}`,
    d.errorSample && `error result: ${d.errorSample}`,
    d.endSample && `stream ended: ${d.endSample}`,
    r.writes.failureSample && `write failed: ${r.writes.failureSample}`,
    r.polling.errorSample && `dashboard error: ${r.polling.errorSample}`,
  ].filter(Boolean) as string[];
  if (notes.length) {
    out.push('', 'First problems seen:', '');
    for (const note of notes) out.push(`- \`${note.replace(/`/g, "'").slice(0, 240)}\``);
  }
  return out;
}
