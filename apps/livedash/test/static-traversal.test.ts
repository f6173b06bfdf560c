/**
 * The static site never serves a file outside its folder, whatever form the path takes (dot segments,
 * percent-encoded dots and slashes, backslashes, a NUL byte), and a path it refuses is answered 403
 * with the JSON error code `forbidden`. Sent on raw sockets: fetch would normalize the dot segments.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type LivedashApp, startLivedash } from '../src/livedash.js';

let parent: string;
let server: LivedashApp;

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'livedash-traversal-'));
  const site = join(parent, 'site');
  mkdirSync(join(site, 'assets'), { recursive: true });
  writeFileSync(join(parent, 'secret.txt'), 'SECRET-OUTSIDE');
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(site, 'assets', 'app.js'), 'console.log(1)');
  server = await startLivedash({ port: 0, metricsIntervalMs: 0, staticDir: site });
});

afterAll(async () => {
  await server.close();
  rmSync(parent, { recursive: true, force: true });
});

function get(target: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => resolve(text));
    socket.on('close', () => resolve(text));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

const targets = [
  '/../secret.txt',
  '/assets/../../secret.txt',
  '/%2e%2e/secret.txt',
  '/assets/%2e%2e/%2e%2e/secret.txt',
  '/..%2fsecret.txt',
  '/assets/..%2f..%2fsecret.txt',
  '/..%5csecret.txt',
  '/assets/..\\..\\secret.txt',
  '/%2e%2e%2fsecret.txt',
  '/.%2e/secret.txt',
  '/secret.txt%00.html',
  '//../secret.txt',
  '/d/..%2f..%2fsecret.txt',
];

test.each(targets)('GET %s serves nothing outside the static folder', async (target) => {
  const answer = await get(target);
  expect(answer).toMatch(/^HTTP\/1\.1 \d{3}/);
  expect(answer).not.toContain('SECRET-OUTSIDE');
});

test('a path with dot segments is refused 403 with the JSON code forbidden', async () => {
  const answer = await get('/%2e%2e/secret.txt');
  expect(answer).toMatch(/^HTTP\/1\.1 403/);
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
  expect(body.error.code).toBe('forbidden');
});

test('files inside the folder are still served', async () => {
  expect(await get('/assets/app.js')).toContain('console.log(1)');
});
