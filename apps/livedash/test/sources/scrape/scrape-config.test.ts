import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/command-io.js';
import { serveOptions } from '../../../src/cli/serve.js';
import { validateConfig } from '../../../src/config-file.js';
import { parseScrapeFlags } from '../../../src/sources/scrape/scrape-config.js';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { errors: string[] } {
  const errors: string[] = [];
  return { env, out: () => {}, err: (line: string) => errors.push(line), errors };
}

describe('config key scrape', () => {
  it('fills what an entry leaves out: channel scrape, every 5 s, timeout within the interval', () => {
    const result = validateConfig({
      scrape: [
        { url: 'http://127.0.0.1:9100/metrics' },
        {
          url: 'https://app.example/metrics',
          channel: 'app',
          intervalMs: '1s',
          headers: { Authorization: 'Bearer x' },
          maxBodyBytes: 65_536,
        },
      ],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        scrape: [
          {
            url: 'http://127.0.0.1:9100/metrics',
            channel: 'scrape',
            intervalMs: 5000,
            timeoutMs: 5000,
            headers: {},
            maxBodyBytes: 8 * 1024 * 1024,
          },
          {
            url: 'https://app.example/metrics',
            channel: 'app',
            intervalMs: 1000,
            timeoutMs: 1000,
            headers: { Authorization: 'Bearer x' },
            maxBodyBytes: 65_536,
          },
        ],
      },
    });
  });

  it('names the key of every problem', () => {
    const result = validateConfig({
      scrape: [
        { url: 'ftp://x/metrics', channel: 'a b' },
        { url: 'http://a/metrics', intervalMs: 1000, timeoutMs: 2000, headers: { 'Bad Name': 'x' } },
        { url: 'http://a/metrics', headers: { ok: 'a\r\nInjected: 1' } },
        { channel: 'x', every: 1 },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toEqual([
      'scrape[0].url: expected an http:// or https:// URL of a Prometheus exposition, got "ftp://x/metrics"',
      'scrape[0].channel: expected a channel name, got "a b"',
      'scrape[1].headers.Bad Name: expected an object of valid HTTP header names to text values, got "Bad Name"',
      'scrape[2].headers.ok: expected a header value of at most 8192 characters without line breaks, got "a\\r\\nInjected: 1"',
      'scrape[3].url: required key missing',
      'scrape[3].every: unknown key (expected one of url, channel, intervalMs, timeoutMs, headers, maxBodyBytes)',
    ]);
    const timing = validateConfig({
      scrape: [
        { url: 'http://a/metrics', intervalMs: 1000, timeoutMs: 2000 },
        { url: 'http://b/metrics', channel: 'scrape' },
      ],
    });
    expect(timing.ok ? [] : timing.error).toEqual([
      'scrape[0].timeoutMs: 2000 ms is longer than intervalMs (1000 ms)',
      'scrape[1].channel: "scrape" is already scraped by scrape[0]',
    ]);
  });
});

describe('--scrape and LIVEDASH_SCRAPE', () => {
  it('reads the URL and its options; the flag repeats for more targets', () => {
    const result = serveOptions(
      [
        '--scrape',
        'http://127.0.0.1:9100/metrics,channel=node,interval=1s,timeout=500',
        '--scrape',
        'http://127.0.0.1:8080/metrics?a=1,2,channel=self',
      ],
      io(),
    );
    if (!result.ok) throw new Error('expected the flags to be accepted');
    expect(result.options.scrape).toMatchObject([
      { url: 'http://127.0.0.1:9100/metrics', channel: 'node', intervalMs: 1000, timeoutMs: 500 },
      { url: 'http://127.0.0.1:8080/metrics?a=1,2', channel: 'self', intervalMs: 5000 },
    ]);
  });

  it('takes space-separated targets from the environment; a flag beats it', () => {
    const env = { LIVEDASH_SCRAPE: 'http://a/metrics,channel=a http://b/metrics,channel=b' };
    const fromEnv = serveOptions([], io(env));
    expect(fromEnv.ok && fromEnv.options.scrape?.map((target) => target.channel)).toEqual(['a', 'b']);
    const fromFlag = serveOptions(['--scrape', 'http://c/metrics'], io(env));
    expect(fromFlag.ok && fromFlag.options.scrape?.map((target) => target.url)).toEqual(['http://c/metrics']);
  });

  it('refuses a bad target with a message naming the flag', () => {
    expect(parseScrapeFlags(['http://a/metrics,every=1s'])).toEqual({
      ok: false,
      error: '--scrape: unknown option "every" (expected channel, interval, timeout, max-body-bytes)',
    });
    expect(parseScrapeFlags(['not a url'])).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^--scrape\.url: /),
    });
    const cli = io();
    expect(serveOptions(['--scrape', 'http://a/m,interval=soon'], cli)).toEqual({ ok: false, code: 2 });
    expect(cli.errors.join('\n')).toMatch(/--scrape\.intervalMs: expected a duration/);
  });
});
