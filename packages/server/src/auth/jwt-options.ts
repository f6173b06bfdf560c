import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import { integer, nonEmptyText } from '../option-values.js';

/**
 * How JWTs are checked. Exactly one key source: an HS256 `secret`, a PEM `publicKey` (RSA → RS256,
 * P-256 → ES256), or a `jwks` document (keys picked by `kid`). `issuer`/`audience`, when set, must be
 * the token's `iss`/`aud`; `clockToleranceSec` is the skew tolerated on `exp`/`nbf` (default 30).
 */
export const jwtOptionsSchema = z.strictObject({
  secret: z.string({ error: 'expected a string' }).optional(),
  publicKey: z.string({ error: 'expected a PEM public key' }).optional(),
  jwks: z
    .custom<JSONWebKeySet>(
      (value) =>
        typeof value === 'object' && value !== null && Array.isArray((value as { keys?: unknown }).keys),
      { error: 'expected a JSON Web Key Set ({"keys": [...]})' },
    )
    .optional(),
  issuer: nonEmptyText('the required "iss" claim').optional(),
  audience: nonEmptyText('the required "aud" claim').optional(),
  clockToleranceSec: integer(0, 3600).optional(),
});

export type JwtOptions = z.output<typeof jwtOptionsSchema>;
