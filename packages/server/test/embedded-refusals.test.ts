/**
 * A refusal reaches the client when livedash is embedded, exactly as it does under `createServer`
 * (body-refusals.test.ts): mounted with `attach(httpServer)` and as a Fastify plugin, a refused 2 MB
 * publish (413, 415, 401, 403) gets its status and JSON error body from Node's fetch (undici) and from
 * curl with and without `Expect: 100-continue`, every attempt; a declared length over the limit gets
 * 413 instead of `100 Continue`; the app's own routes still get `100 Continue`.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@livedash/protocol';
import { attach, CHANNEL_PARAM_MAX_LENGTH, livedash, mintToken } from '@livedash/server';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigJsonBody, curlOutcome, fetchOutcome } from './helpers/refusal-clients.js';
import { rawExchange } from './security-wire.js';

const TOKEN = 'embedded-refusal-secret';
const JWT_SECRET = 'a-jwt-secret-of-at-least-32-bytes-for-tests';
const ATTEMPTS = 20;
const MAX_FRAME_BYTES = 64 * 1024;
const BIG = bigJsonBody();
const CORE_OPTIONS = { publishToken: TOKEN, jwt: { secret: JWT_SECRET }, maxFrameBytes: MAX_FRAME_BYTES };

interface Mounted {
  /** Where livedash's paths start: `http://127.0.0.1:<port>` plus the prefix, if any. */
  live: string;
  /** The app's own route that reads a POSTed body and answers `{"bytes":N}`. */
  upload: string;
  port: number;
  close(): Promise<void>;
}

/** livedash attached to a plain node:http server whose own handler serves `/upload`. */
async function mountAttached(): Promise<Mounted> {
  const server: Server = createHttpServer((request, response) => {
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on('end', () => response.end(JSON.stringify({ bytes })));
  });
  const attached = await attach(server, CORE_OPTIONS);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    live: `http://127.0.0.1:${port}`,
    upload: `http://127.0.0.1:${port}/upload`,
    port,
    close: async () => {
      await attached.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** livedash registered under `/live` in a Fastify app with its own `/upload` route. */
async function mountPlugin(): Promise<Mounted> {
  const app = Fastify({ routerOptions: { maxParamLength: CHANNEL_PARAM_MAX_LENGTH } });
  app.post('/upload', async (request) => ({ bytes: String(request.body).length }));
  await app.register(livedash, { prefix: '/live', ...CORE_OPTIONS });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    live: `http://127.0.0.1:${port}/live`,
    upload: `http://127.0.0.1:${port}/upload`,
    port,
    close: () => app.close(),
  };
}

interface Refusal {
  name: string;
  headers: Record<string, string>;
  expected: string;
}

const REFUSALS: Refusal[] = [
  {
    name: '413 for a body over maxBodyBytes',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    expected: `413 ${ErrorCodes.TOO_LARGE}`,
  },
  {
    name: '415 for a body that is not JSON',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
    expected: `415 ${ErrorCodes.BAD_COMMAND}`,
  },
  {
    name: '401 for a publish without credentials, before the body',
    headers: { 'content-type': 'application/json' },
    expected: `401 ${ErrorCodes.UNAUTHORIZED}`,
  },
  {
    name: '403 for a publish the token does not allow, before the body',
    headers: {
      authorization: `Bearer ${await mintToken({ secret: JWT_SECRET, subscribe: ['*'], publish: [] })}`,
      'content-type': 'application/json',
    },
    expected: `403 ${ErrorCodes.FORBIDDEN}`,
  },
];

let dir: string;
let bigFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'livedash-embedded-'));
  bigFile = join(dir, 'big.json');
  writeFileSync(bigFile, BIG);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const MOUNTS: Array<[string, () => Promise<Mounted>]> = [
  ['attach(httpServer)', mountAttached],
  ['the Fastify plugin', mountPlugin],
];

describe.each(MOUNTS)('mounted with %s', (_name, mount) => {
  let mounted: Mounted;

  beforeAll(async () => {
    mounted = await mount();
  });

  afterAll(async () => {
    await mounted.close();
  });

  for (const refusal of REFUSALS) {
    it(`Node's fetch gets ${refusal.name}: ${ATTEMPTS} of ${ATTEMPTS} attempts`, async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < ATTEMPTS; i++) {
        outcomes.push(await fetchOutcome(`${mounted.live}/api/channels/big`, refusal.headers, BIG));
      }
      expect(outcomes).toEqual(Array(ATTEMPTS).fill(refusal.expected));
    });

    for (const expect100 of [true, false]) {
      const how = expect100 ? 'with Expect: 100-continue' : 'without Expect';
      it(`curl ${how} gets ${refusal.name}: ${ATTEMPTS} of ${ATTEMPTS} attempts`, async () => {
        const outcomes: string[] = [];
        for (let i = 0; i < ATTEMPTS; i++) {
          const url = `${mounted.live}/api/channels/big`;
          outcomes.push(await curlOutcome(url, refusal.headers, bigFile, expect100));
        }
        expect(outcomes).toEqual(Array(ATTEMPTS).fill(refusal.expected));
      });
    }
  }

  it('a declared length over the limit gets 413 instead of 100 Continue', async () => {
    const path = new URL(`${mounted.live}/api/channels/big`).pathname;
    const head =
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${BIG.length}\r\nExpect: 100-continue\r\n\r\n`;
    const response = await rawExchange(mounted.port, [head], 5000, true);
    expect(response.status).toBe(413);
    expect(response.text).not.toContain('100 Continue');
  });

  it('an acceptable publish gets 100 Continue, then its answer', async () => {
    const path = new URL(`${mounted.live}/api/channels/small`).pathname;
    const body = '{"v":1}';
    const head =
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    const response = await rawExchange(mounted.port, [head, body], 5000);
    expect(response.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(response.text).toContain('"seq":');
  });

  it("the app's own route still gets 100 Continue and the whole body", async () => {
    const body = 'y'.repeat(100_000);
    const head =
      'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n' +
      `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    const response = await rawExchange(mounted.port, [head, body], 5000);
    expect(response.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(response.text).toContain(`"bytes":${body.length}`);
  });
});
