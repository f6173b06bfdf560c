import { createPrivateKey } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { isValidChannelPattern, MAX_GRANT_PATTERNS } from './channel-grant.js';
import { MIN_SECRET_BYTES } from './token-verifier.js';

export interface MintOptions {
  /** HS256 shared secret (the server's `jwt.secret`)… */
  secret?: string;
  /** …or a PEM PKCS#8 private key (RSA → RS256, EC P-256 → ES256). */
  privateKey?: string;
  /** Key id, put in the header so a JWKS verifier can pick the key. */
  kid?: string;
  subscribe: readonly string[];
  publish: readonly string[];
  subject?: string;
  issuer?: string;
  audience?: string;
  /** Lifetime, seconds (default 3600). */
  ttlSec?: number;
}

/** Largest lifetime `livedash token` mints: local tokens are for testing and scripts, not for keeps. */
export const MAX_TTL_SEC = 30 * 24 * 3600;

/**
 * Signs a livedash token. Throws on bad options (this is an operator tool; its caller prints the
 * message). Claims: `subscribe` and `publish` pattern lists, `exp`, `iat`, and optional `sub`/`iss`/`aud`.
 *
 * @example
 * const token = await mintToken({ secret, subscribe: ['metrics', 'team.*'], publish: [], ttlSec: 600 });
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const ttl = options.ttlSec ?? 3600;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SEC) {
    throw new Error(`the lifetime must be a whole number of seconds from 1 to ${MAX_TTL_SEC}`);
  }
  for (const [name, list] of [
    ['subscribe', options.subscribe],
    ['publish', options.publish],
  ] as const) {
    if (list.length > MAX_GRANT_PATTERNS) throw new Error(`at most ${MAX_GRANT_PATTERNS} ${name} patterns`);
    const bad = list.find((pattern) => !isValidChannelPattern(pattern));
    if (bad !== undefined) throw new Error(`invalid ${name} channel pattern "${bad}"`);
  }
  const { key, alg } = await signingKey(options);
  let jwt = new SignJWT({ subscribe: [...options.subscribe], publish: [...options.publish] })
    .setProtectedHeader(options.kid === undefined ? { alg } : { alg, kid: options.kid })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  if (options.subject !== undefined) jwt = jwt.setSubject(options.subject);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}

async function signingKey(options: MintOptions) {
  if ((options.secret === undefined) === (options.privateKey === undefined)) {
    throw new Error('give exactly one of a secret (HS256) or a private key (RS256/ES256)');
  }
  if (options.secret !== undefined) {
    const bytes = new TextEncoder().encode(options.secret);
    if (bytes.length < MIN_SECRET_BYTES)
      throw new Error(`the secret must be at least ${MIN_SECRET_BYTES} bytes`);
    return { key: bytes, alg: 'HS256' };
  }
  const pem = options.privateKey as string;
  let type: string | undefined;
  let curve: string | undefined;
  let pkcs8: string;
  try {
    const parsed = createPrivateKey(pem);
    type = parsed.asymmetricKeyType;
    curve = parsed.asymmetricKeyDetails?.namedCurve;
    // jose reads only PKCS#8; openssl often writes PKCS#1 / SEC1, so normalize.
    pkcs8 = parsed.export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch {
    throw new Error('the private key is not a PEM private key');
  }
  const alg = type === 'rsa' ? 'RS256' : type === 'ec' && curve === 'prime256v1' ? 'ES256' : undefined;
  if (alg === undefined) throw new Error('the private key must be RSA (RS256) or EC P-256 (ES256)');
  return { key: await importPKCS8(pkcs8, alg), alg };
}
