/**
 * A refused WebSocket upgrade says why: whatever the refusal (unknown path, wrong method, a handshake
 * that breaks RFC 6455, the server shutting down), the answer carries livedash's JSON error body
 * (`{"error":{"code","message"}}`), so curl, logs and a developer reading the network panel see the
 * reason, not a bare status.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer, type LivedashServer } from '../src/index.js';
import { rawExchange, upgradeHeaders } from './security-wire.js';

let server: LivedashServer;

beforeAll(async () => {
  server = await createServer({ port: 0 });
});

afterAll(async () => {
  await server.close();
});

const refusals: Array<[string, string, number, string]> = [
  ['an unknown path', upgradeHeaders('/nowhere'), 404, 'not_found'],
  ['a path that only looks like /ws', upgradeHeaders('/ws%00'), 404, 'not_found'],
  ['a method other than GET', upgradeHeaders('/ws').replace(/^GET/, 'POST'), 405, 'bad_command'],
  ['a version other than 13', upgradeHeaders('/ws').replace('Version: 13', 'Version: 8'), 400, 'bad_command'],
  [
    'no Sec-WebSocket-Key',
    upgradeHeaders('/ws').replace(/Sec-WebSocket-Key: .*\r\n/, ''),
    400,
    'bad_command',
  ],
  [
    'a malformed Sec-WebSocket-Key',
    upgradeHeaders('/ws').replace(/Sec-WebSocket-Key: .*\r\n/, 'Sec-WebSocket-Key: x\r\n'),
    400,
    'bad_command',
  ],
  [
    'a malformed subprotocol list',
    upgradeHeaders('/ws', { 'Sec-WebSocket-Protocol': ',,,' }),
    400,
    'bad_command',
  ],
];

test.each(refusals)(
  'an upgrade with %s is refused with a JSON reason',
  async (_what, request, status, code) => {
    const answer = await rawExchange(server.port, [request]);
    expect(answer.status).toBe(status);
    expect(answer.closed).toBe(true);
    expect(answer.text).toMatch(/\r\ncontent-type: application\/json/i);
    const body = JSON.parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4)) as {
      error: { code: string; message: string };
    };
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
  },
);

test('a wrong version still names the one this server speaks (RFC 6455 §4.4)', async () => {
  const answer = await rawExchange(server.port, [upgradeHeaders('/ws').replace('Version: 13', 'Version: 8')]);
  expect(answer.text).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
});
