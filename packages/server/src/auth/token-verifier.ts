import { createPublicKey } from 'node:crypto';
import { CloseCodes, ErrorCodes, LivedashError, type Result } from '@livedash/protocol';
import {
  createLocalJWKSet,
  errors,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { type ChannelGrant, readPatternClaim } from './channel-grant.js';
import type { JwtOptions } from './jwt-options.js';

export type { JwtOptions } from './jwt-options.js';

/** Who presented a valid token and what it allows. */
export interface VerifiedToken {
  subject: string | undefined;
  grant: ChannelGrant;
  /** When this server stops accepting the token: `exp` plus the clock tolerance, ms since the Unix epoch. */
  expiresAt: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<Result<VerifiedToken, LivedashError>>;
}

/** HS256 secrets shorter than this are refused: a short shared secret is brute-forceable offline. */
export const MIN_SECRET_BYTES = 32;

type Key = Parameters<typeof jwtVerify>[1] | JWTVerifyGetKey;

async function resolveKey(options: JwtOptions): Promise<{ key: Key; algorithms: string[] }> {
  const sources = [options.secret, options.publicKey, options.jwks].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new Error('JWT auth needs exactly one of: secret, publicKey, jwks');
  if (options.secret !== undefined) {
    const bytes = new TextEncoder().encode(options.secret);
    if (bytes.length < MIN_SECRET_BYTES)
      throw new Error(`the JWT secret must be at least ${MIN_SECRET_BYTES} bytes`);
    return { key: bytes, algorithms: ['HS256'] };
  }
  if (options.publicKey !== undefined) {
    const algorithm = algorithmOfPublicKey(options.publicKey);
    return { key: await importSPKI(options.publicKey, algorithm), algorithms: [algorithm] };
  }
  const jwks = options.jwks;
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new Error('the JWKS must be an object with a non-empty "keys" array');
  }
  return { key: createLocalJWKSet(jwks), algorithms: ['RS256', 'ES256'] };
}

function algorithmOfPublicKey(pem: string): 'RS256' | 'ES256' {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('the JWT public key is not a PEM public key');
  }
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error('the JWT public key must be RSA (RS256) or EC P-256 (ES256)');
}

const rejected = (
  code: typeof ErrorCodes.UNAUTHORIZED | typeof ErrorCodes.TOKEN_EXPIRED,
  message: string,
) => ({
  ok: false as const,
  error: new LivedashError(code, message, {
    closeCode: code === ErrorCodes.TOKEN_EXPIRED ? CloseCodes.TOKEN_EXPIRED : CloseCodes.UNAUTHORIZED,
  }),
});

/**
 * Builds a verifier; throws (at startup) when the key configuration is unusable. Verification never
 * throws: a bad token comes back as `unauthorized` (close 4001) or `token_expired` (close 4004), with
 * a message that never repeats the token.
 *
 * @example
 * const verifier = await createTokenVerifier({ secret: process.env.LIVEDASH_JWT_SECRET });
 * const result = await verifier.verify(token);
 * if (result.ok) grantAllows(result.value.grant.subscribe, 'metrics');
 */
export async function createTokenVerifier(options: JwtOptions): Promise<TokenVerifier> {
  const { key, algorithms } = await resolveKey(options);
  const toleranceSec = options.clockToleranceSec ?? 30;
  const verifyOptions = {
    algorithms,
    requiredClaims: ['exp'],
    clockTolerance: toleranceSec,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        // jwtVerify is overloaded on the key type; both branches take the same options.
        payload = (await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], verifyOptions)).payload;
      } catch (error) {
        if (error instanceof errors.JWTExpired) return rejected(ErrorCodes.TOKEN_EXPIRED, 'token expired');
        return rejected(ErrorCodes.UNAUTHORIZED, `invalid token (${describeJoseError(error)})`);
      }
      const subscribe = readPatternClaim(payload.subscribe, 'subscribe');
      if (!subscribe.ok) return rejected(ErrorCodes.UNAUTHORIZED, subscribe.error);
      const publish = readPatternClaim(payload.publish, 'publish');
      if (!publish.ok) return rejected(ErrorCodes.UNAUTHORIZED, publish.error);
      return {
        ok: true,
        value: {
          subject: typeof payload.sub === 'string' ? payload.sub : undefined,
          grant: { subscribe: subscribe.value, publish: publish.value },
          expiresAt: ((payload.exp as number) + toleranceSec) * 1000,
        },
      };
    },
  };
}

/** jose's codes name the failed check without echoing token content. */
function describeJoseError(error: unknown): string {
  if (error instanceof errors.JOSEError) return error.code;
  return 'malformed';
}
