import { type LivedashApp, startLivedash } from 'livedash';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';

let server: LivedashApp;
let browser: Browser;

beforeAll(async () => {
  server = await startLivedash({ port: 0, publishToken: 'secret', metricsIntervalMs: 300 });
  browser = await openBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('without a dashboard build, / shows live CPU and memory in a real browser, and they keep updating', async () => {
  const { page, errors } = browser;
  await page.goto(`${server.url}/`);
  await page.waitForFunction("/%$/.test(document.getElementById('cpu')?.textContent ?? '')", undefined, {
    timeout: 20_000,
  });
  const first = await page.textContent('#status');
  expect(first).toMatch(/^live/);
  expect(await page.textContent('#memory')).toMatch(/^\d+(\.\d)? %$/);
  // The status line carries the time of the latest message: it changes as messages arrive.
  await page.waitForFunction(
    `document.getElementById('status')?.textContent !== ${JSON.stringify(first)}`,
    undefined,
    { timeout: 20_000 },
  );
  expect(errors).toEqual([]);
});
