import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

// deploy/grafana/dashboards/fleetgraph.json queries Prometheus by metric name: a renamed or
// removed metric would leave a panel silently empty. Every name a query uses must be one that
// router/metrics.ts or subgraphs/kit/metrics.ts registers (a histogram's _bucket/_sum/_count
// only for a Histogram).

const METRIC_FILES = ['router/metrics.ts', 'subgraphs/kit/metrics.ts'];
/** name → prom-client type, from `new Counter({ name: '…'`. */
const registered = new Map(
  METRIC_FILES.flatMap((file) =>
    [
      ...readFileSync(file, 'utf8').matchAll(
        /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{\s*name: '([a-z_:][a-z0-9_:]*)'/g,
      ),
    ].map((m) => [m[2]!, m[1]!] as const),
  ),
);

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression selects. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((word) => !PROMQL_WORDS.has(word.toLowerCase()));
}

type Panel = {
  id?: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  panels?: Panel[];
};
const dashboard = JSON.parse(readFileSync('deploy/grafana/dashboards/fleetgraph.json', 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; current: { value: string } }[] };
};
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const queries = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
);

describe('deploy/grafana/dashboards/fleetgraph.json', () => {
  it('when the metric files are read, then they register the metrics (the parser still works)', () => {
    assert.ok(registered.size >= 20, `only ${registered.size} metrics found`);
    assert.equal(registered.get('fleetgraph_router_request_duration_seconds'), 'Histogram');
    assert.deepEqual(metricNames('sum by (le, op) (rate(a_bucket{x="y"}[5m])) / b'), [
      'a_bucket',
      'b',
    ]);
  });

  it('when a panel queries Prometheus, then every metric it names is registered by the router or a subgraph', () => {
    assert.ok(queries.length > 10);
    for (const { panel, expr } of queries) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
      for (const name of names) {
        const histogram = /^(.*)_(bucket|sum|count)$/.exec(name);
        const known =
          (registered.has(name) && registered.get(name) !== 'Histogram') ||
          (histogram !== null && registered.get(histogram[1]!) === 'Histogram');
        assert.ok(known, `${panel}: ${name} is not a metric of ${METRIC_FILES.join(' or ')}`);
      }
    }
  });

  it('when opened, then it shows traffic, errors, latency, caches, subgraph fetches, Cassandra, rate limits and subscriptions', () => {
    const used = new Set(queries.flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      'fleetgraph_router_requests_total',
      'fleetgraph_router_errors_total',
      'fleetgraph_router_request_duration_seconds_bucket',
      'fleetgraph_router_cache_hits_total',
      'fleetgraph_router_cache_misses_total',
      'fleetgraph_router_subgraph_fetches_total',
      'fleetgraph_cassandra_statements_total',
      'fleetgraph_router_rate_limited_total',
      'fleetgraph_router_subscriptions_active',
      'fleetgraph_router_subscription_event_execution_seconds_bucket',
    ])
      assert.ok(used.has(name), `no panel shows ${name}`);
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids must be unique');
    for (const panel of panels.filter((p) => p.targets))
      assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: data source`);
  });

  it('when Grafana is provisioned, then its data source is the one the dashboard defaults to and the dashboards folder is the mounted one', () => {
    const datasources = parse(
      readFileSync('deploy/grafana/provisioning/datasources/prometheus.yaml', 'utf8'),
    ) as { datasources: { uid: string; url: string }[] };
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.equal(variable?.type, 'datasource');
    assert.equal(datasources.datasources[0]?.uid, variable?.current.value);
    assert.equal(datasources.datasources[0]?.url, 'http://prometheus:9090');
    const providers = parse(
      readFileSync('deploy/grafana/provisioning/dashboards/fleetgraph.yaml', 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
      services: { grafana: { volumes: string[] } };
    };
    assert.ok(
      compose.services.grafana.volumes.includes(
        `./deploy/grafana/dashboards:${providers.providers[0]?.options.path}:ro`,
      ),
    );
  });
});
