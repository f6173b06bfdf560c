/**
 * Requests refused below the routes (by Node's HTTP parser or Fastify's router) get livedash's JSON
 * error body (`{"error":{"code","message"}}`) like every other refusal, not Fastify's own shape: a
 * request-target with percent-encoded bytes that are not UTF-8, a malformed request line, and a
 * header block over the limit.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer, type LivedashServer } from '../src/index.js';
import { rawExchange } from './security-wire.js';

let server: LivedashServer;

beforeAll(async () => {
  server = await createServer({ port: 0 });
});

afterAll(async () => {
  await server.close();
});

const cases: Array<[string, string, number, string]> = [
  [
    'a channel name that is not UTF-8',
    'GET /api/channels/%ff HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    400,
    'bad_command',
  ],
  ['a malformed request line', 'GET localhost:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400, 'bad_command'],
  ['bytes that are not HTTP', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400, 'bad_command'],
  [
    'a header block over the limit',
    `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    431,
    'too_large',
  ],
];

test.each(cases)('%s is answered with the JSON error body', async (_what, request, status, code) => {
  const answer = await rawExchange(server.port, [request]);
  expect(answer.status).toBe(status);
  expect(answer.text).toMatch(/\r\ncontent-type: application\/json/i);
  const body = JSON.parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)) as {
    error: { code: string; message: string };
  };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
});

test('a CONNECT request (this server is no proxy) is answered 405 with the JSON error body', async () => {
  const answer = await rawExchange(server.port, [
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
  ]);
  expect(answer.status).toBe(405);
  expect(answer.closed).toBe(true);
  const body = JSON.parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)) as {
    error: { code: string; message: string };
  };
  expect(body.error.code).toBe('bad_command');
});
