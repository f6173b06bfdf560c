/**
 * A refused request body (413 too large, 415 wrong type, 401/403 before the body) must reach the
 * client as its status and JSON error body, every time, whatever the client is still sending: the
 * server answers, then reads and discards the rest (bounded in bytes and time) before closing, and
 * answers `Expect: 100-continue` with the final status when it already knows the answer. Real clients:
 * Node's fetch (undici) and curl, many attempts each; Chromium's fetch is in e2e/body-refusals.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@livedash/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type LivedashServer, mintToken } from '../src/index.js';
import { bigJsonBody, curlOutcome, fetchOutcome } from './helpers/refusal-clients.js';
import { rawExchange } from './security-wire.js';

const TOKEN = 'refusal-secret';
const JWT_SECRET = 'a-jwt-secret-of-at-least-32-bytes-for-tests';
const ATTEMPTS = 20;
const BIG = bigJsonBody();

let server: LivedashServer;
let dir: string;
let bigFile: string;

beforeAll(async () => {
  server = await createServer({ port: 0, publishToken: TOKEN, jwt: { secret: JWT_SECRET } });
  dir = mkdtempSync(join(tmpdir(), 'livedash-body-'));
  bigFile = join(dir, 'big.json');
  writeFileSync(bigFile, BIG);
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Refusal {
  name: string;
  headers: Record<string, string>;
  status: number;
  code: string;
}

const REFUSALS: Refusal[] = [
  {
    name: '413 for a body over maxBodyBytes',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    status: 413,
    code: ErrorCodes.TOO_LARGE,
  },
  {
    name: '415 for a body that is not JSON',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' },
    status: 415,
    code: ErrorCodes.BAD_COMMAND,
  },
  {
    name: '401 for a publish without credentials, before the body',
    headers: { 'content-type': 'application/json' },
    status: 401,
    code: ErrorCodes.UNAUTHORIZED,
  },
  {
    name: '403 for a publish the token does not allow, before the body',
    headers: {
      authorization: `Bearer ${await mintToken({ secret: JWT_SECRET, subscribe: ['*'], publish: [] })}`,
      'content-type': 'application/json',
    },
    status: 403,
    code: ErrorCodes.FORBIDDEN,
  },
];

/**
 * A client that writes its whole request before it reads anything (as simple HTTP clients do), sending
 * the body in pieces as a slow uplink would: by the time it reads, the server has answered long ago.
 */
function writeThenRead(headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    const errors: string[] = [];
    socket.pause();
    socket.on('error', (error) => errors.push(String(error)));
    const finish = () => {
      const text = Buffer.concat(received).toString();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
      socket.destroy();
      resolve(status && code ? `${status} ${code}` : `no answer: ${errors.join(', ') || 'closed'}`);
    };
    socket.on('close', finish);
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      // A whole answer (the server may keep the connection open afterwards).
      const text = Buffer.concat(received).toString();
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1]);
      const bodyAt = text.indexOf('\r\n\r\n') + 4;
      if (bodyAt >= 4 && text.length - bodyAt >= length) finish();
    });
    socket.once('connect', async () => {
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.write(
        `POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('')}Content-Length: ${BIG.length}\r\n\r\n`,
      );
      const piece = 128 * 1024;
      for (let at = 0; at < BIG.length && !socket.destroyed; at += piece) {
        await new Promise<void>((done) => socket.write(BIG.subarray(at, at + piece), () => done()));
        await new Promise((done) => setTimeout(done, 5));
      }
      socket.resume();
    });
  });
}

describe('a client that sends its whole body before reading gets every refusal', () => {
  for (const refusal of REFUSALS) {
    it(`${refusal.name}: ${ATTEMPTS} of ${ATTEMPTS} attempts`, async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < ATTEMPTS; i++) outcomes.push(await writeThenRead(refusal.headers));
      expect(outcomes).toEqual(Array(ATTEMPTS).fill(`${refusal.status} ${refusal.code}`));
    });
  }
});

describe("Node's fetch (undici) gets every refusal of a 2 MB body", () => {
  for (const refusal of REFUSALS) {
    it(`${refusal.name}: ${ATTEMPTS} of ${ATTEMPTS} attempts`, async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < ATTEMPTS; i++) {
        outcomes.push(await fetchOutcome(`${server.url}/api/channels/big`, refusal.headers, BIG));
      }
      expect(outcomes).toEqual(Array(ATTEMPTS).fill(`${refusal.status} ${refusal.code}`));
    });
  }
});

describe('curl gets every refusal of a 2 MB body', () => {
  for (const expect100 of [true, false]) {
    for (const refusal of REFUSALS) {
      const how = expect100 ? 'with Expect: 100-continue' : 'without Expect';
      it(`${refusal.name}, ${how}: ${ATTEMPTS} of ${ATTEMPTS} attempts`, async () => {
        const outcomes: string[] = [];
        for (let i = 0; i < ATTEMPTS; i++) {
          const url = `${server.url}/api/channels/big`;
          outcomes.push(await curlOutcome(url, refusal.headers, bigFile, expect100));
        }
        expect(outcomes).toEqual(Array(ATTEMPTS).fill(`${refusal.status} ${refusal.code}`));
      });
    }
  }
});

describe('Expect: 100-continue', () => {
  it('a declared length over the limit gets 413 instead of 100 Continue', async () => {
    const head =
      'POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer refusal-secret\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${BIG.length}\r\nExpect: 100-continue\r\n\r\n`;
    const response = await rawExchange(server.port, [head], 5000, true);
    expect(response.status).toBe(413);
    expect(response.text).not.toContain('100 Continue');
  });

  it('credentials refused before the body get 401 instead of 100 Continue', async () => {
    const head =
      'POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'Content-Length: 10\r\nExpect: 100-continue\r\n\r\n';
    const response = await rawExchange(server.port, [head], 5000, true);
    expect(response.status).toBe(401);
  });

  it('an acceptable request gets 100 Continue, then its answer', async () => {
    const body = '{"v":1}';
    const head =
      'POST /api/channels/small HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer refusal-secret\r\n' +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    const response = await rawExchange(server.port, [head, body], 5000);
    expect(response.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(response.text).toContain('"seq":1');
  });
});

describe('the discard after a refusal is bounded', () => {
  /**
   * Sends a 413-bound request, then body bytes as fast as the server takes them (past `trickleAfter`
   * bytes, one at a time), and keeps sending after the server has ended its side (a half-open client);
   * resolves when the connection is gone.
   */
  function floodAfterRefusal(
    port: number,
    total: number,
    trickleAfter?: number,
  ): Promise<{ sent: number; answer: string; ms: number }> {
    return new Promise((resolve) => {
      const started = performance.now();
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      const piece = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      let answer = '';
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve({ sent, answer, ms: performance.now() - started }));
      socket.once('connect', async () => {
        socket.write(
          `POST /api/channels/big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`,
        );
        while (sent < total && !socket.destroyed) {
          // Past `trickleAfter`, one byte every 50 ms: a body that never finishes.
          const trickling = trickleAfter !== undefined && sent >= trickleAfter;
          const chunk = trickling ? piece.subarray(0, 1) : piece;
          await new Promise<void>((done) => socket.write(chunk, () => done()));
          sent += chunk.length;
          if (trickling) await new Promise((done) => setTimeout(done, 50));
        }
        if (sent === total) socket.end();
      });
    });
  }

  it('past maxDiscardBytes the connection is cut, after the answer went out', async () => {
    const small = await createServer({ port: 0, publishToken: TOKEN, maxDiscardBytes: 1024 * 1024 });
    try {
      const result = await floodAfterRefusal(small.port, 512 * 1024 * 1024);
      expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
      // Cut long before the 512 MB were sent (what the kernel buffers on loopback comes on top of 1 MiB).
      expect(result.sent).toBeLessThan(128 * 1024 * 1024);
    } finally {
      await small.close();
    }
  });

  it('a body that never finishes (one byte every 50 ms) is cut after maxDiscardMs', async () => {
    const quick = await createServer({ port: 0, publishToken: TOKEN, maxDiscardMs: 300 });
    try {
      const result = await floodAfterRefusal(quick.port, BIG.length, 512 * 1024);
      expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(result.ms).toBeGreaterThanOrEqual(250);
      expect(result.ms).toBeLessThan(3000);
    } finally {
      await quick.close();
    }
  });

  it('discarding 256 MB keeps nothing: the server process does not grow with it', async () => {
    const wide = await createServer({
      port: 0,
      publishToken: TOKEN,
      maxDiscardBytes: 1024 * 1024 * 1024,
      maxDiscardMs: 60_000,
    });
    try {
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 20);
      const result = await floodAfterRefusal(wide.port, 256 * 1024 * 1024);
      clearInterval(sampler);
      expect(result.answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(result.sent).toBe(256 * 1024 * 1024);
      expect(peak - before).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await wide.close();
    }
  }, 60_000);
});
