import { describe, expect, it } from 'vitest';
import { createServer, defaultOptions, resolveOptions, serverOptionsSchema } from '../src/index.js';

describe('server options schema', () => {
  it('accepts every default', () => {
    expect(serverOptionsSchema.safeParse(defaultOptions()).success).toBe(true);
  });

  it('createServer throws at the call on an option out of bounds, naming it and the bound', () => {
    expect(() => createServer({ port: 0, maxHeaders: 1 })).toThrow(
      'invalid livedash options: maxHeaders: expected an integer from 8 to 10000, got 1',
    );
    expect(() =>
      createServer({ port: 0, brokerUrl: 'http://redis:6379', allowedOrigins: ['dash.example.com'] }),
    ).toThrow(
      /allowedOrigins\[0\]: expected "\*" or an origin such as "https:\/\/dash\.example\.com", got "dash\.example\.com"; brokerUrl: expected a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/redis:6379"/,
    );
  });

  it('createServer names a misspelt option (from JavaScript, where types do not catch it)', () => {
    const options = { port: 0, maxHeader: 10 } as Parameters<typeof createServer>[0];
    expect(() => createServer(options)).toThrow('maxHeader: unknown key (did you mean "maxHeaders"?)');
  });

  it('resolveOptions fills defaults and checks what is given', () => {
    expect(resolveOptions({ heartbeatMs: 500 }).heartbeatMs).toBe(500);
    expect(() => resolveOptions({ heartbeatMs: 5 })).toThrow(
      'heartbeatMs: expected an integer from 100 to 3600000, got 5',
    );
  });

  it('createServer refuses a trustProxy entry that is not an address, a CIDR or loopback', () => {
    expect(resolveOptions({ trustProxy: ['10.0.0.0/8', '::1', 'loopback'] }).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
      'loopback',
    ]);
    expect(() => createServer({ port: 0, trustProxy: ['10.0.0.0/8', 'proxy.local'] })).toThrow(
      'invalid livedash options: trustProxy[1]: expected an IP address, a CIDR such as "10.0.0.0/8", or "loopback", got "proxy.local"',
    );
  });
});
