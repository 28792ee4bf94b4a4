import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

// Debian's chromium package (installed by .ci/run); playwright's own browser download cannot
// reach its CDN from these machines.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the local GraphQL IDE in headless Chromium', () => {
  let federation: Federation;
  let browser: Browser;
  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: apt-get install chromium (CHROMIUM_PATH)`,
    );
    federation = await startFederation();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await federation?.close();
  });

  it('when the IDE is opened with a token, then it loads from the router alone and runs a query', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(federation.url.replace(/\/graphql$/, '')))
        external.push(request.url());
    });
    await page.goto(`${federation.url.replace(/\/graphql$/, '/ide')}?token=${token}`);
    await page.locator('.graphiql-container').waitFor({ timeout: 20_000 });
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.result-window').getByText('Acme Robotics').waitFor({ timeout: 20_000 });
    mkdirSync('test/artifacts', { recursive: true });
    await page.screenshot({ path: 'test/artifacts/ide.png', fullPage: true });
    assert.deepEqual(external, [], 'no request left the router (no CDN)');
  });

  it('when a subscription is run in the IDE, then its events stream into the result pane over the WebSocket', async () => {
    const token = await tokenFor(federation.config, 0, 0);
    const fleetId = seedIds.fleet(0, 0);
    const robotId = seedIds.robot(0, 0, 5);
    // Put back at the end: later files read fleet 0's statuses (fleet-subgraph.test.ts: a robot
    // on a mission is ACTIVE).
    const { body: seeded } = await federation.query<{ robot: { status: string } }>(
      'query($id: ID!) { robot(id: $id) { status } }',
      { id: robotId },
      { token },
    );
    const page = await browser.newPage();
    const subscription = `subscription { robotChanged(fleetId: "${fleetId}") { id kind robot { id status } } }`;
    // GraphiQL opens with the query it last persisted.
    await page.addInitScript((text) => {
      const storage = (
        globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
      ).localStorage;
      storage.setItem('graphiql:query', text);
    }, subscription);
    await page.goto(`${federation.url.replace(/\/graphql$/, '/ide')}?token=${token}`);
    await page.locator('.graphiql-container').waitFor({ timeout: 20_000 });
    await page.locator('.graphiql-execute-button').click();
    // The subscription is live once the router reads the fleet's stream; then change a robot.
    const deadline = Date.now() + 20_000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      const { body } = await federation.query(
        'mutation($id: ID!) { updateRobotStatus(robotId: $id, status: MAINTENANCE) { id } }',
        { id: robotId },
        { token },
      );
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      seen = await page
        .locator('.result-window')
        .getByText('ROBOT_STATUS_CHANGED')
        .first()
        .waitFor({ timeout: 1000 })
        .then(() => true)
        .catch(() => false);
    }
    await federation.query(
      'mutation($id: ID!, $s: RobotStatus!) { updateRobotStatus(robotId: $id, status: $s) { id } }',
      { id: robotId, s: seeded.data!.robot.status },
      { token },
    );
    assert.ok(seen, 'an event reached the result pane');
  });
});
