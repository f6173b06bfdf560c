import { generateKeyPairSync } from 'node:crypto';
import { CloseCodes, ErrorCodes } from '@livedash/protocol';
import { exportJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Authenticator, canPublish, canSubscribe, refusal } from '../src/auth/authenticator.js';
import { bearerToken, redactToken } from '../src/auth/bearer-token.js';
import { isValidChannelPattern, readPatternClaim } from '../src/auth/channel-grant.js';
import { constantTimeEqual } from '../src/auth/constant-time.js';
import { mintToken } from '../src/auth/mint-token.js';
import { createTokenVerifier } from '../src/auth/token-verifier.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const PUBLISH = 'publish-token';

function rsaPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
}

function ecPair() {
  return generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
  });
}

describe('channel patterns', () => {
  it('accepts *, names and prefixes, and nothing else', () => {
    for (const ok of ['*', 'metrics', 'team.*', 'metrics*', 'a:b-c_d'])
      expect(isValidChannelPattern(ok)).toBe(true);
    for (const bad of ['', '**', 'team.**', '$x', 'a b', '*team', 'a*b', 3, null]) {
      expect(isValidChannelPattern(bad)).toBe(false);
    }
  });

  it('reads a missing claim as no access and a malformed one as an error', () => {
    expect(readPatternClaim(undefined, 'subscribe')).toEqual({ ok: true, value: [] });
    expect(readPatternClaim('metrics', 'subscribe').ok).toBe(false);
    expect(readPatternClaim(['metrics', 'a b'], 'subscribe').ok).toBe(false);
    expect(readPatternClaim(new Array(257).fill('x'), 'subscribe').ok).toBe(false);
  });
});

describe('constantTimeEqual', () => {
  it('matches equal secrets only, whatever the lengths', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secreT', 'secret')).toBe(false);
    expect(constantTimeEqual('secret-and-more', 'secret')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(false);
  });
});

describe('bearerToken and redactToken', () => {
  it('prefers the Authorization header and ignores other schemes', () => {
    expect(bearerToken('Bearer abc', 'q')).toBe('abc');
    expect(bearerToken('bearer   abc ', undefined)).toBe('abc');
    expect(bearerToken('Basic abc', 'q')).toBe('q');
    expect(bearerToken(undefined, '')).toBeUndefined();
    expect(bearerToken(undefined, ['a', 'b'])).toBeUndefined();
  });

  it('removes token values from URLs', () => {
    expect(redactToken('/sse?channels=a&token=eyJ.secret.sig&x=1')).toBe(
      '/sse?channels=a&token=[redacted]&x=1',
    );
    expect(redactToken('/ws?TOKEN=abc')).toBe('/ws?TOKEN=[redacted]');
    expect(redactToken('/api/channels/token=x')).toBe('/api/channels/token=x');
  });
});

describe('HS256 tokens', () => {
  it('grants the channels in the claims and nothing else', async () => {
    const auth = await Authenticator.create(PUBLISH, {
      jwt: { secret: SECRET },
      anonymousChannels: ['public.*'],
    });
    const token = await mintToken({
      secret: SECRET,
      subscribe: ['metrics', 'team.*'],
      publish: ['team.a'],
      subject: 'ann',
    });
    const result = await auth.authenticate(token);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const who = result.value;
    expect(who.kind).toBe('token');
    expect(canSubscribe(who, 'metrics')).toBe(true);
    expect(canSubscribe(who, 'team.b')).toBe(true);
    expect(canSubscribe(who, 'metricsX')).toBe(false);
    expect(canSubscribe(who, 'alerts')).toBe(false);
    expect(canPublish(who, 'team.a')).toBe(true);
    expect(canPublish(who, 'team.b')).toBe(false);
    expect(refusal(who, 'publish to', 'team.b').code).toBe(ErrorCodes.FORBIDDEN);
  });

  it('gives anonymous clients only the configured channels, and tells them to authenticate', async () => {
    const auth = await Authenticator.create(PUBLISH, {
      jwt: { secret: SECRET },
      anonymousChannels: ['public.*'],
    });
    const anonymous = await auth.authenticate(undefined);
    expect(anonymous.ok && canSubscribe(anonymous.value, 'public.x')).toBe(true);
    expect(anonymous.ok && canSubscribe(anonymous.value, 'metrics')).toBe(false);
    expect(anonymous.ok && canPublish(anonymous.value, 'public.x')).toBe(false);
    if (anonymous.ok)
      expect(refusal(anonymous.value, 'subscribe to', 'metrics').code).toBe(ErrorCodes.UNAUTHORIZED);
  });

  it('lets the publish token do everything, and refuses a wrong token even without JWT config', async () => {
    const open = await Authenticator.create(PUBLISH, { jwt: undefined, anonymousChannels: undefined });
    expect(open.configured).toBe(false);
    const anonymous = await open.authenticate(undefined);
    expect(anonymous.ok && canSubscribe(anonymous.value, 'anything')).toBe(true);
    const publisher = await open.authenticate(PUBLISH);
    expect(publisher.ok && canPublish(publisher.value, 'anything')).toBe(true);
    const wrong = await open.authenticate('nope');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error.closeCode).toBe(CloseCodes.UNAUTHORIZED);
  });

  it('reports expiry with its own code and close code', async () => {
    const auth = await Authenticator.create(PUBLISH, {
      jwt: { secret: SECRET, clockToleranceSec: 0 },
      anonymousChannels: [],
    });
    const expired = await new SignJWT({ subscribe: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(SECRET));
    const result = await auth.authenticate(expired);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(ErrorCodes.TOKEN_EXPIRED);
    expect(result.error.closeCode).toBe(CloseCodes.TOKEN_EXPIRED);
    expect(result.error.message).not.toContain(expired);
  });

  it('refuses tampered, unsigned, wrong-key, exp-less and badly-claimed tokens as unauthorized', async () => {
    const verifier = await createTokenVerifier({ secret: SECRET });
    const good = await mintToken({ secret: SECRET, subscribe: ['a'], publish: [] });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const widened = Buffer.from(JSON.stringify({ subscribe: ['*'], exp: 9999999999 })).toString('base64url');
    const noExp = await new SignJWT({ subscribe: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(SECRET));
    const badClaim = await new SignJWT({ subscribe: 'everything' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    const otherKey = await mintToken({ secret: `${SECRET}-other`, subscribe: ['a'], publish: [] });
    for (const token of [
      `${header}.${widened}.${signature}`,
      none,
      otherKey,
      noExp,
      badClaim,
      'not-a-jwt',
      '...',
    ]) {
      const result = await verifier.verify(token);
      expect(result.ok, token).toBe(false);
      if (!result.ok) expect(result.error.code).toBe(ErrorCodes.UNAUTHORIZED);
    }
  });

  it('checks issuer and audience when configured', async () => {
    const verifier = await createTokenVerifier({ secret: SECRET, issuer: 'me', audience: 'dash' });
    const right = await mintToken({
      secret: SECRET,
      subscribe: ['a'],
      publish: [],
      issuer: 'me',
      audience: 'dash',
    });
    const wrong = await mintToken({
      secret: SECRET,
      subscribe: ['a'],
      publish: [],
      issuer: 'you',
      audience: 'dash',
    });
    expect((await verifier.verify(right)).ok).toBe(true);
    expect((await verifier.verify(wrong)).ok).toBe(false);
  });

  it('refuses unusable key configuration at startup', async () => {
    await expect(createTokenVerifier({ secret: 'short' })).rejects.toThrow(/at least 32 bytes/);
    await expect(createTokenVerifier({})).rejects.toThrow(/exactly one/);
    await expect(createTokenVerifier({ publicKey: 'garbage' })).rejects.toThrow(/PEM/);
    await expect(createTokenVerifier({ jwks: { keys: [] } })).rejects.toThrow(/keys/);
  });
});

describe('RS256 and ES256 tokens', () => {
  it('verifies RS256 with a PEM public key and refuses an HS256 token signed with that public key', async () => {
    const { publicKey, privateKey } = rsaPair();
    const verifier = await createTokenVerifier({ publicKey });
    const token = await mintToken({ privateKey, subscribe: ['metrics'], publish: [] });
    const result = await verifier.verify(token);
    expect(result.ok && result.value.grant.subscribe).toEqual(['metrics']);
    // Algorithm confusion: the public key used as an HMAC secret must not verify.
    const confused = await new SignJWT({ subscribe: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(publicKey));
    expect((await verifier.verify(confused)).ok).toBe(false);
  });

  it('verifies ES256 with a PEM public key', async () => {
    const { publicKey, privateKey } = ecPair();
    const verifier = await createTokenVerifier({ publicKey });
    const token = await mintToken({ privateKey, subscribe: ['a.*'], publish: ['a.b'] });
    const result = await verifier.verify(token);
    expect(result.ok && result.value.grant).toEqual({ subscribe: ['a.*'], publish: ['a.b'] });
  });

  it('verifies against a JWKS, choosing the key by kid', async () => {
    const rsa = rsaPair();
    const ec = ecPair();
    const { createPublicKey } = await import('node:crypto');
    const rsaJwk = {
      ...(await exportJWK(createPublicKey(rsa.publicKey))),
      kid: 'r1',
      alg: 'RS256',
      use: 'sig',
    };
    const ecJwk = {
      ...(await exportJWK(createPublicKey(ec.publicKey))),
      kid: 'e1',
      alg: 'ES256',
      use: 'sig',
    };
    const verifier = await createTokenVerifier({ jwks: { keys: [rsaJwk, ecJwk] } });
    const byRsa = await mintToken({ privateKey: rsa.privateKey, kid: 'r1', subscribe: ['x'], publish: [] });
    const byEc = await mintToken({ privateKey: ec.privateKey, kid: 'e1', subscribe: ['y'], publish: [] });
    const wrongKid = await mintToken({ privateKey: ec.privateKey, kid: 'r1', subscribe: ['y'], publish: [] });
    expect((await verifier.verify(byRsa)).ok).toBe(true);
    expect((await verifier.verify(byEc)).ok).toBe(true);
    expect((await verifier.verify(wrongKid)).ok).toBe(false);
  });
});

describe('mintToken', () => {
  it('refuses bad options with a clear message', async () => {
    await expect(mintToken({ secret: SECRET, subscribe: ['a b'], publish: [] })).rejects.toThrow(
      /invalid subscribe/,
    );
    await expect(mintToken({ secret: SECRET, subscribe: [], publish: [], ttlSec: 0 })).rejects.toThrow(
      /lifetime/,
    );
    await expect(mintToken({ subscribe: [], publish: [] })).rejects.toThrow(/exactly one/);
    await expect(mintToken({ secret: 'short', subscribe: [], publish: [] })).rejects.toThrow(/32 bytes/);
  });
});
