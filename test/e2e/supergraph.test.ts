import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { composeSupergraph, readSubgraphSources } from '../../schema/composition/compose.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

describe('schema files, composition and hot reload', () => {
  let federation: Federation;
  let supergraphCopy: string;
  before(async () => {
    supergraphCopy = join(mkdtempSync(join(tmpdir(), 'fg-supergraph-')), 'supergraph.graphql');
    copyFileSync('schema/supergraph.graphql', supergraphCopy);
    federation = await startFederation({ SUPERGRAPH_PATH: supergraphCopy });
  });
  after(() => federation.close());

  it('when each subgraph is asked for its SDL, then it composes to the same supergraph as its file', async () => {
    // The served SDL adds federation's own definitions, so the comparison is made where it
    // matters: composing what the running subgraphs serve must give the committed supergraph.
    const served = [];
    for (const source of readSubgraphSources()) {
      const name = source.name as 'users' | 'sessions' | 'fleet';
      const { body } = await federation.subgraphs[name].request<{ _service: { sdl: string } }>(
        '{ _service { sdl } }',
      );
      assert.equal(body.errors, undefined);
      served.push({ ...source, sdl: body.data!._service.sdl });
    }
    const outcome = composeSupergraph(served);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.errors.join('\n'));
    assert.equal(
      outcome.supergraphSdl,
      readFileSync('schema/supergraph.graphql', 'utf8'),
      'a subgraph serves an SDL that differs from its file',
    );
  });

  it('when the subgraph files are composed, then the committed supergraph is byte-identical', () => {
    const outcome = composeSupergraph(readSubgraphSources());
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.errors.join('\n'));
    assert.equal(
      outcome.supergraphSdl,
      readFileSync('schema/supergraph.graphql', 'utf8'),
      'run npm run schema:compose',
    );
  });

  it('when the supergraph file changes under load, then the router serves the new schema and drops no in-flight request', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const missionQuery = '{ mission(id: "00000000-0000-1000-8000-000000000000") { id } }';
    assert.equal((await federation.query(missionQuery, {}, { token })).status, 200);
    const dashboard = readFileSync(
      'schema/operations/fleet-console/FleetDashboard.graphql',
      'utf8',
    );
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) {
        const batch = await Promise.all(
          Array.from({ length: 4 }, () =>
            federation.query(dashboard, { fleetId: seedIds.fleet(0, 0), first: 50 }, { token }),
          ),
        );
        for (const response of batch) statuses.push(response.body.errors ? 500 : response.status);
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const original = readFileSync(supergraphCopy, 'utf8');
    // The field goes together with its description line, or the SDL would not parse.
    const withoutMission = original.replace(
      /\n *"""[^\n]*"""\n *mission\(id: ID!\): Mission[^\n]*\n/,
      '\n',
    );
    assert.notEqual(withoutMission, original, 'the test removes Query.mission');
    writeFileSync(supergraphCopy, withoutMission);
    let reloaded = false;
    for (let i = 0; i < 40 && !reloaded; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const { body } = await federation.query(missionQuery, {}, { token });
      reloaded = body.errors?.[0]?.extensions?.['code'] === 'GRAPHQL_VALIDATION_FAILED';
    }
    stop = true;
    await load;
    assert.ok(reloaded, 'Query.mission disappeared after the reload');
    assert.ok(statuses.length >= 4, `requests in flight during the reload: ${statuses.length}`);
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the reload');
  });
});
