import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
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
});
