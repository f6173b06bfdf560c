/**
 * Who a request comes from, behind a reverse proxy: forwarding headers are read only from trusted
 * peers, walked from the right, and per-address limits count IPv6 clients by their /64. The unit part
 * feeds `ClientAddresses` request-shaped objects; the rest uses real sockets — many clients "behind
 * one proxy" are 127.0.0.1 connections carrying distinct X-Forwarded-For.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer, type LivedashServer } from '../src/index.js';
import { addressGroup, ClientAddresses, isTrustedProxyEntry } from '../src/limits/client-address.js';
import { PerIpCounter } from '../src/limits/per-ip-counter.js';

function request(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('ClientAddresses', () => {
  it('is the TCP peer when no proxy is trusted, whatever the headers say', () => {
    const addresses = new ClientAddresses([]);
    expect(addresses.of(request('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }))).toBe('127.0.0.1');
    expect(addresses.of(request('::ffff:10.1.2.3'))).toBe('10.1.2.3');
  });

  it('ignores forwarding headers from a peer that is not trusted (spoofing)', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8']);
    expect(addresses.of(request('198.51.100.4', { 'x-forwarded-for': '1.2.3.4' }))).toBe('198.51.100.4');
    expect(addresses.of(request('198.51.100.4', { forwarded: 'for=1.2.3.4' }))).toBe('198.51.100.4');
  });

  it('takes the rightmost hop that is not a trusted proxy', () => {
    const addresses = new ClientAddresses(['127.0.0.1', '10.0.0.0/8']);
    const via = (xff: string) => addresses.of(request('127.0.0.1', { 'x-forwarded-for': xff }));
    expect(via('203.0.113.9')).toBe('203.0.113.9');
    // A client that writes its own X-Forwarded-For only adds hops to the left of the real one.
    expect(via('6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
    expect(via('6.6.6.6, 203.0.113.9, 10.0.0.4, 10.9.9.9')).toBe('203.0.113.9');
    // Every hop trusted: the leftmost is as far as anyone can tell.
    expect(via('10.0.0.7, 10.0.0.4')).toBe('10.0.0.7');
    // A hop that is not an address stops the walk at the trusted proxy that reported it.
    expect(via('203.0.113.9, unknown, 10.0.0.4')).toBe('10.0.0.4');
    expect(via('')).toBe('127.0.0.1');
  });

  it('reads RFC 7239 Forwarded when there is no X-Forwarded-For, with quoted IPv6 and ports', () => {
    const addresses = new ClientAddresses(['loopback']);
    const via = (forwarded: string) => addresses.of(request('::1', { forwarded }));
    expect(via('for=192.0.2.60;proto=http;by=203.0.113.43')).toBe('192.0.2.60');
    expect(via('for=192.0.2.43, for="[2001:DB8:cafe::17]:4711"')).toBe('2001:db8:cafe::17');
    expect(via('for=198.51.100.17:8080')).toBe('198.51.100.17');
    expect(via('for=_hidden')).toBe('::1');
    // X-Forwarded-For wins when both are there.
    expect(
      addresses.of(request('127.0.0.1', { forwarded: 'for=1.1.1.1', 'x-forwarded-for': '2.2.2.2' })),
    ).toBe('2.2.2.2');
  });

  it('looks at the last 32 hops only, however long the header', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8', '127.0.0.1']);
    const chain = `${'9.9.9.9, '.repeat(10_000)}${'10.0.0.1, '.repeat(40)}10.0.0.2`;
    expect(addresses.of(request('127.0.0.1', { 'x-forwarded-for': chain }))).toBe('10.0.0.1');
  });

  it('refuses an entry that is not an address, a CIDR or loopback, naming it', () => {
    expect(() => new ClientAddresses(['10.0.0.0/33'])).toThrow(/"10\.0\.0\.0\/33"/);
    expect(() => new ClientAddresses(['proxy.example'])).toThrow(/not an IP address/);
    for (const entry of ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', 'loopback'])
      expect(isTrustedProxyEntry(entry), entry).toBe(true);
    for (const entry of ['', '10.0.0.0/', '10.0.0.0/8/1', '::1/129', 'localhost'])
      expect(isTrustedProxyEntry(entry), entry).toBe(false);
  });
});

describe('per-address limits count IPv6 by /64', () => {
  it('groups the addresses of one /64, IPv4 and mapped IPv4 as themselves', () => {
    expect(addressGroup('2001:db8:1:2::a')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressGroup('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressGroup('192.0.2.1')).toBe('192.0.2.1');
  });

  it('a host rotating through its /64 hits the limit; the next /64 does not', () => {
    const counter = new PerIpCounter(2);
    expect(counter.acquire('2001:db8:1:2::a')).toBeDefined();
    expect(counter.acquire('2001:db8:1:2:dead:beef:0:1')).toBeDefined();
    expect(counter.acquire('2001:db8:1:2::ffff')).toBeUndefined();
    expect(counter.acquire('2001:db8:1:3::a')).toBeDefined();
  });
});

describe('many clients behind one proxy, over real sockets', () => {
  let server: LivedashServer | undefined;
  const sockets: WebSocket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    await server?.close();
    server = undefined;
  });

  /** Opens a WebSocket from 127.0.0.1 with these headers: the upgrade's status (101 when it opened). */
  function open(headers: Record<string, string>): Promise<number> {
    return new Promise((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${server?.port}/ws`, { headers });
      sockets.push(socket);
      socket.once('open', () => resolve(101));
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', () => resolve(0));
    });
  }

  async function openAll(count: number, headers: (i: number) => Record<string, string>): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) statuses.push(await open(headers(i)));
    return statuses;
  }

  it('trusted: 20 clients with distinct X-Forwarded-For each get their own limit', async () => {
    server = await createServer({ port: 0, trustProxy: ['127.0.0.1'], maxConnectionsPerIp: 2 });
    const statuses = await openAll(20, (i) => ({ 'x-forwarded-for': `203.0.113.${i + 1}` }));
    expect(statuses).toEqual(Array(20).fill(101));
    // …and each is held to it: a third connection of one of them is refused.
    expect(await open({ 'x-forwarded-for': '203.0.113.1' })).toBe(101);
    expect(await open({ 'x-forwarded-for': '203.0.113.1' })).toBe(429);
  });

  it('not trusted (the default): they all count as the proxy, so the proxy hits the cap', async () => {
    server = await createServer({ port: 0, maxConnectionsPerIp: 2 });
    const statuses = await openAll(5, (i) => ({ 'x-forwarded-for': `203.0.113.${i + 1}` }));
    expect(statuses).toEqual([101, 101, 429, 429, 429]);
  });

  it('spoofed headers from a peer that is not a trusted proxy are ignored', async () => {
    server = await createServer({ port: 0, trustProxy: ['10.0.0.0/8'], maxConnectionsPerIp: 2 });
    const statuses = await openAll(4, (i) => ({
      'x-forwarded-for': `198.51.100.${i + 1}`,
      forwarded: `for=198.51.100.${i + 1}`,
    }));
    expect(statuses).toEqual([101, 101, 429, 429]);
  });

  it('a client behind the proxy cannot escape its limit by writing its own X-Forwarded-For', async () => {
    server = await createServer({ port: 0, trustProxy: ['loopback'], maxConnectionsPerIp: 2 });
    // The proxy appends the address it saw (203.0.113.50) to whatever the client sent.
    const statuses = await openAll(4, (i) => ({ 'x-forwarded-for': `10.${i}.0.1, 203.0.113.50` }));
    expect(statuses).toEqual([101, 101, 429, 429]);
  });

  it('IPv6 clients behind the proxy count by /64; SSE streams too', async () => {
    server = await createServer({
      port: 0,
      trustProxy: ['127.0.0.1'],
      maxConnectionsPerIp: 2,
      maxSseStreamsPerIp: 1,
    });
    const statuses = await openAll(3, (i) => ({ 'x-forwarded-for': `2001:db8:aa:bb::${i + 1}` }));
    expect(statuses).toEqual([101, 101, 429]);
    expect(await open({ 'x-forwarded-for': '2001:db8:aa:bc::1' })).toBe(101);

    const controller = new AbortController();
    const sse = (xff: string) =>
      fetch(`${server?.url}/sse?channels=a`, {
        headers: { 'x-forwarded-for': xff },
        signal: controller.signal,
      }).then((response) => response.status);
    try {
      expect(await sse('2001:db8:aa:bb::1')).toBe(200);
      expect(await sse('2001:db8:aa:bb::2')).toBe(429);
      expect(await sse('2001:db8:aa:bc::2')).toBe(200);
    } finally {
      controller.abort();
    }
  });

  it('the request log names the forwarded client', async () => {
    const lines: string[] = [];
    server = await createServer({
      port: 0,
      trustProxy: ['127.0.0.1'],
      logger: { stream: { write: (line) => lines.push(line) } },
    });
    await fetch(`${server.url}/healthz`, { headers: { 'x-forwarded-for': '203.0.113.77' } });
    const logged = lines.map((line) => JSON.parse(line) as { req?: { remoteAddress?: string } });
    expect(logged.find((entry) => entry.req)?.req?.remoteAddress).toBe('203.0.113.77');
  });
});
