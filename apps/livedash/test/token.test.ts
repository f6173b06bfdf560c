import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenVerifier } from '@livedash/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration, runTokenCommand } from '../src/cli/token.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('livedash token', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livedash-token-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('mints an HS256 token from the environment secret that the server verifies', async () => {
    const { code, out, err } = await run(
      ['--subscribe', 'metrics,team.*', '--publish', 'team.a', '--ttl', '15m'],
      {
        LIVEDASH_JWT_SECRET: SECRET,
      },
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    const result = await (await createTokenVerifier({ secret: SECRET })).verify(out);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.grant).toEqual({ subscribe: ['metrics', 'team.*'], publish: ['team.a'] });
    const lifetime = result.value.expiresAt - Date.now();
    expect(lifetime).toBeGreaterThan(14 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(15 * 60_000 + 30_000); // exp plus the default clock tolerance
  });

  it('mints an ES256 token from a private key file', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'sec1', format: 'pem' },
    });
    const file = join(dir, 'key.pem');
    await writeFile(file, privateKey);
    const { code, out } = await run(['--private-key', file, '--subscribe', 'a', '--subject', 'me'], {
      LIVEDASH_JWT_SECRET: SECRET,
    });
    expect(code).toBe(0);
    const result = await (await createTokenVerifier({ publicKey })).verify(out);
    expect(result.ok && result.value.subject).toBe('me');
  });

  it('explains bad input on stderr, never echoing the secret', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--subscribe', 'a'], /exactly one/],
      [['--secret', 'short-secret', '--subscribe', 'a'], /32 bytes/],
      [['--secret', SECRET], /at least one --subscribe/],
      [['--secret', SECRET, '--subscribe', 'a b'], /invalid subscribe channel pattern/],
      [['--secret', SECRET, '--subscribe', 'a', '--ttl', 'soon'], /--ttl/],
      [['--secret', SECRET, '--bogus'], /Unknown option/],
      [['--private-key', join(dir, 'missing.pem'), '--subscribe', 'a'], /ENOENT/],
    ];
    for (const [args, message] of cases) {
      const { code, out, err } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(message);
      expect(err).not.toContain(SECRET);
    }
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: livedash token/);
  });

  it('parses durations', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2d')).toBe(172_800);
    for (const bad of ['0', '-1', '1.5h', 'h', '1w', '']) expect(parseDuration(bad)).toBeUndefined();
  });
});
