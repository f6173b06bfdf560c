/**
 * The client SDK's token support against a real server with JWT auth: a fixed token, and a token
 * function whose short-lived tokens are refreshed before expiry on every transport without dropping
 * the connection's subscriptions or losing a message.
 */
import { createServer, type LivedashServer, mintToken } from '@livedash/server';
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveClient, type TokenProvider, tokenExpiresAt } from '../src/index.js';
import { until } from './helpers/wait.js';

const SECRET = 'client-token-test-secret-0123456789abcdefgh';
let server: LivedashServer;
const clients: LiveClient[] = [];

beforeAll(async () => {
  server = await createServer({
    port: 0,
    publishToken: 'p',
    jwt: { secret: SECRET, clockToleranceSec: 0 },
    anonymousChannels: [],
  });
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

afterAll(async () => {
  await server.close();
});

function client(token: TokenProvider, transports: Array<'ws' | 'sse' | 'poll'>): LiveClient {
  const created = new LiveClient({
    url: server.url,
    WebSocket,
    EventSource,
    token,
    transports,
    pollIntervalMs: 100,
  });
  clients.push(created);
  return created;
}

/** Publishes one message every `everyMs` on `channel` for `durationMs`; resolves with the seqs published. */
async function publishFor(channel: string, durationMs: number, everyMs = 100): Promise<number[]> {
  const seqs: number[] = [];
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    seqs.push((await server.hub.publish(channel, { at: Date.now() })).seq);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return seqs;
}

describe('client tokens', () => {
  it('reads a JWT expiry without verifying it', async () => {
    const token = await mintToken({ secret: SECRET, subscribe: ['a'], publish: [], ttlSec: 60 });
    const expiresAt = tokenExpiresAt(token) ?? 0;
    expect(Math.abs(expiresAt - (Date.now() + 60_000))).toBeLessThan(2000);
    expect(tokenExpiresAt('not-a-jwt')).toBeUndefined();
    expect(tokenExpiresAt('a.b.c')).toBeUndefined();
  });

  it('a fixed token reaches a protected channel; without it the channel is refused', async () => {
    await server.hub.publish('team.fixed', { v: 1 });
    const withToken = client(
      await mintToken({ secret: SECRET, subscribe: ['team.*'], publish: [], ttlSec: 600 }),
      ['ws'],
    );
    const got: unknown[] = [];
    withToken.subscribe('team.fixed', (data) => got.push(data));
    await until(() => got.length > 0, 'the protected value', 10_000);
    expect(got[0]).toEqual({ v: 1 });
  });

  for (const transport of ['ws', 'sse', 'poll'] as const) {
    it(`refreshes short-lived tokens before expiry over ${transport}, keeping every message and the connection`, async () => {
      const channel = `team.refresh-${transport}`;
      let issued = 0;
      const provider = async () => {
        issued++;
        return mintToken({ secret: SECRET, subscribe: ['team.*'], publish: [], ttlSec: 3 });
      };
      const live = client(provider, [transport]);
      const seqs: number[] = [];
      let subscribed = 0;
      live.subscribe(channel, (_data, meta) => seqs.push(meta.seq), {
        onSubscribed: () => subscribed++,
      });
      // Subscribed, not just open: a message published before the server has the subscription would
      // come (at best) as the latest value, and the run below must start with the first one published.
      await until(() => live.state.status === 'open' && subscribed > 0, 'subscribed', 10_000);
      let drops = 0;
      live.onState((next, previous) => {
        if (previous.status === 'open' && next.status !== 'open') drops++;
      });
      // Well past the first token's 3 s lifetime, and the second's.
      const published = await publishFor(channel, 7000);
      await until(
        () => seqs.includes(published.at(-1) as number),
        `the last message over ${transport}`,
        15_000,
      );
      expect(issued).toBeGreaterThanOrEqual(3);
      const fromFirst = seqs.slice(seqs.indexOf(published[0] as number));
      expect(fromFirst).toEqual(published);
      // WebSocket re-authenticates in place; SSE reopens and resumes (a drop the client does not see as one).
      if (transport === 'ws') expect(drops).toBe(0);
      expect(live.state.status).toBe('open');
    }, 40_000);
  }
});
