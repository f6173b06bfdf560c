/**
 * A browser that sends too much hears why: `fetch` in Chromium, from the dashboard's own origin, gets
 * the status and JSON error body of every refused 2 MB publish (413, 415, 401) every time, and a
 * WebSocket message over `maxFrameBytes` closes with 1009 and a reason the page can read.
 */
import { type LivedashApp, startLivedash } from 'livedash';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Browser, openBrowser } from './helpers/browser.js';

const ATTEMPTS = 20;
let server: LivedashApp;
let browser: Browser;

beforeAll(async () => {
  server = await startLivedash({ port: 0, publishToken: 'secret', metricsIntervalMs: 0 });
  browser = await openBrowser();
  await browser.page.goto(`${server.url}/`);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs `ATTEMPTS` 2 MB publishes with these headers from the page; returns "status code" per attempt. */
function publishFromPage(headers: Record<string, string>): Promise<string[]> {
  return browser.page.evaluate(
    async ({ headers, attempts }) => {
      const body = JSON.stringify({ v: 'x'.repeat(2 * 1024 * 1024) });
      const outcomes: string[] = [];
      for (let i = 0; i < attempts; i++) {
        try {
          const response = await fetch('/api/channels/big', { method: 'POST', headers, body });
          const answer = (await response.json()) as { error?: { code?: string } };
          outcomes.push(`${response.status} ${answer.error?.code}`);
        } catch (error) {
          outcomes.push(`network error: ${String(error)}`);
        }
      }
      return outcomes;
    },
    { headers, attempts: ATTEMPTS },
  );
}

test('fetch in Chromium gets 413 too_large for a 2 MB publish, every time', async () => {
  const outcomes = await publishFromPage({
    authorization: 'Bearer secret',
    'content-type': 'application/json',
  });
  expect(outcomes).toEqual(Array(ATTEMPTS).fill('413 too_large'));
});

test('fetch in Chromium gets 415 for a 2 MB body that is not JSON, every time', async () => {
  const outcomes = await publishFromPage({ authorization: 'Bearer secret', 'content-type': 'text/plain' });
  expect(outcomes).toEqual(Array(ATTEMPTS).fill('415 bad_command'));
});

test('fetch in Chromium gets 401 for a 2 MB publish without credentials, every time', async () => {
  const outcomes = await publishFromPage({ 'content-type': 'application/json' });
  expect(outcomes).toEqual(Array(ATTEMPTS).fill('401 unauthorized'));
});

test('a WebSocket message over maxFrameBytes closes with 1009 and a reason the page reads, every time', async () => {
  const outcomes = await browser.page.evaluate(async (attempts) => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const results: string[] = [];
    for (let i = 0; i < attempts; i++) {
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws`);
      await new Promise((resolve) => {
        ws.onopen = resolve;
      });
      const closed = new Promise<CloseEvent>((resolve) => {
        ws.onclose = resolve;
      });
      ws.send(big);
      const event = await closed;
      results.push(`${event.code} ${event.reason}`);
    }
    return results;
  }, ATTEMPTS);
  expect(outcomes).toEqual(Array(ATTEMPTS).fill(`1009 message over ${server.options.maxFrameBytes} bytes`));
});
