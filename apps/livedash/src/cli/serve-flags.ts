import { readFileSync } from 'node:fs';
import { describeIssues, isValidChannelPattern, type JwtOptions, type ServerOptions } from '@livedash/server';
import { OPTION_SOURCES, valueFromText } from '../option-sources.js';

type JsonWebKeySet = NonNullable<JwtOptions['jwks']>;

/** `livedash serve` flags for authentication, origins, limits and TLS (spread into its parseArgs options). */
export const SECURITY_FLAGS = {
  'allow-anonymous': { type: 'boolean' },
  'allowed-origins': { type: 'string' },
  'allowed-hosts': { type: 'string' },
  'trust-proxy': { type: 'string' },
  'anonymous-channels': { type: 'string' },
  'jwt-secret': { type: 'string' },
  'jwt-public-key': { type: 'string' },
  jwks: { type: 'string' },
  'jwt-issuer': { type: 'string' },
  'jwt-audience': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'max-frame-bytes': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'max-subscriptions': { type: 'string' },
  'max-queue-bytes': { type: 'string' },
  'max-json-depth': { type: 'string' },
  'max-connections-per-ip': { type: 'string' },
  'max-sse-streams-per-ip': { type: 'string' },
  'frames-per-sec': { type: 'string' },
  'frame-burst': { type: 'string' },
  'max-header-bytes': { type: 'string' },
  'max-headers': { type: 'string' },
  'max-history-messages': { type: 'string' },
  'max-channels': { type: 'string' },
  'max-history-bytes': { type: 'string' },
  'max-discard-bytes': { type: 'string' },
  'max-discard-ms': { type: 'string' },
} as const;

export const SECURITY_USAGE = `Security (docs/security.md):
  --jwt-secret <secret>      HS256 secret for subscriber/publisher tokens (env LIVEDASH_JWT_SECRET, preferred:
                             a flag shows in the process list); mint tokens with livedash token
  --jwt-public-key <file>    PEM public key, RS256 or ES256 (env LIVEDASH_JWT_PUBLIC_KEY_FILE)
  --jwks <file>              JWKS file, keys picked by kid (env LIVEDASH_JWKS_FILE)
  --jwt-issuer <iss>         required iss (env LIVEDASH_JWT_ISSUER);  --jwt-audience <aud>  required aud
  --anonymous-channels <p>   channel patterns readable without a token, comma-separated (env
                             LIVEDASH_ANONYMOUS_CHANNELS; default: all without JWT auth, none with it)
  --allow-anonymous          allow a non-loopback --host without JWT auth (env LIVEDASH_ALLOW_ANONYMOUS=1)
  --allowed-origins <list>   browser origins allowed for WS/SSE besides this server's own, and for CORS on
                             /api (env LIVEDASH_ALLOWED_ORIGINS; default none; * allows any)
  --allowed-hosts <list>     host names this server answers to besides localhost, *.localhost, IP addresses
                             and --host: .example.com (it and its subdomains), *.example.com, * (no check);
                             checked on a loopback --host always, elsewhere only when given: DNS rebinding
                             (env LIVEDASH_ALLOWED_HOSTS; default none)
  --trust-proxy <list>       reverse proxies (addresses, CIDRs, loopback) whose X-Forwarded-For / Forwarded
                             name the client, for per-address limits and logs (env LIVEDASH_TRUST_PROXY;
                             default none: every client is its TCP peer)
  --tls-cert <file> --tls-key <file>   serve HTTPS/WSS (env LIVEDASH_TLS_CERT, LIVEDASH_TLS_KEY)
Limits (default in brackets; over it, see docs/security.md and docs/configuration.md):
  --max-frame-bytes <n> [65536]  --max-body-bytes <n> [65536]  --max-subscriptions <n> [256]
  --max-queue-bytes <n> [1048576]  --max-json-depth <n> [32]
  --max-connections-per-ip <n> [64]  --max-sse-streams-per-ip <n> [16]  --frames-per-sec <n> [50]
  --frame-burst <n> [100]  --max-header-bytes <n> [16384]  --max-headers <n> [64]  --max-history-messages <n> [1000]
  --max-channels <n> [10000]  --max-history-bytes <n> [134217728]
  --max-discard-bytes <n> [8388608]  --max-discard-ms <n> [5000]   how much of a refused request body is
                             still read and dropped so the client reads the refusal`;

type Flags = {
  [K in keyof typeof SECURITY_FLAGS]?: (typeof SECURITY_FLAGS)[K]['type'] extends 'boolean'
    ? boolean
    : string;
};

/** List options checked against their schema (a bad entry is named with its index). */
const LISTS = [
  ['allowed-hosts', 'allowedHosts', 'LIVEDASH_ALLOWED_HOSTS'],
  ['trust-proxy', 'trustProxy', 'LIVEDASH_TRUST_PROXY'],
] as const;

const LIMITS = [
  ['max-frame-bytes', 'maxFrameBytes', 'LIVEDASH_MAX_FRAME_BYTES'],
  ['max-body-bytes', 'maxBodyBytes', 'LIVEDASH_MAX_BODY_BYTES'],
  ['max-subscriptions', 'maxSubscriptions', 'LIVEDASH_MAX_SUBSCRIPTIONS'],
  ['max-queue-bytes', 'maxQueueBytes', 'LIVEDASH_MAX_QUEUE_BYTES'],
  ['max-json-depth', 'maxJsonDepth', 'LIVEDASH_MAX_JSON_DEPTH'],
  ['max-connections-per-ip', 'maxConnectionsPerIp', 'LIVEDASH_MAX_CONNECTIONS_PER_IP'],
  ['max-sse-streams-per-ip', 'maxSseStreamsPerIp', 'LIVEDASH_MAX_SSE_STREAMS_PER_IP'],
  ['frames-per-sec', 'framesPerSec', 'LIVEDASH_FRAMES_PER_SEC'],
  ['frame-burst', 'frameBurst', 'LIVEDASH_FRAME_BURST'],
  ['max-header-bytes', 'maxHeaderBytes', 'LIVEDASH_MAX_HEADER_BYTES'],
  ['max-headers', 'maxHeaders', 'LIVEDASH_MAX_HEADERS'],
  ['max-history-messages', 'maxHistoryMessages', 'LIVEDASH_MAX_HISTORY_MESSAGES'],
  ['max-channels', 'maxChannels', 'LIVEDASH_MAX_CHANNELS'],
  ['max-history-bytes', 'maxHistoryBytes', 'LIVEDASH_MAX_HISTORY_BYTES'],
  ['max-discard-bytes', 'maxDiscardBytes', 'LIVEDASH_MAX_DISCARD_BYTES'],
  ['max-discard-ms', 'maxDiscardMs', 'LIVEDASH_MAX_DISCARD_MS'],
] as const;

/**
 * Checks a flag's or variable's text against the option's schema (the one the config file and
 * `createServer` use), so a bound reads the same from every source: `--max-headers: expected an
 * integer from 8 to 10000, got 1`.
 */
export function checkOptionText(
  option: string,
  text: string,
  source: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const row = OPTION_SOURCES.find((candidate) => candidate.option === option);
  if (row === undefined) throw new Error(`no option source for ${option}`);
  const result = row.value.safeParse(valueFromText(row.form, text), { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: describeIssues(result.error.issues, source).join('; ') };
}

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

function readText(path: string, what: string): string | { error: string } {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return { error: `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}

/**
 * Applies the security flags (flag > environment > what `options` already holds from the config
 * file). Returns an error message naming the flag for anything invalid; secrets never appear in it.
 *
 * @example
 * const error = applySecurityFlags(parsed.values, process.env, options);
 */
export function applySecurityFlags(
  flags: Flags,
  env: NodeJS.ProcessEnv,
  options: Partial<ServerOptions>,
): string | undefined {
  const pick = (flag: keyof Flags, variable: string) => {
    const value = flags[flag] ?? env[variable];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  if (flags['allow-anonymous'] || env.LIVEDASH_ALLOW_ANONYMOUS === '1') options.allowAnonymous = true;
  const origins = pick('allowed-origins', 'LIVEDASH_ALLOWED_ORIGINS');
  if (origins !== undefined) options.allowedOrigins = list(origins);
  for (const [flag, option, variable] of LISTS) {
    const text = pick(flag, variable);
    if (text === undefined) continue;
    const checked = checkOptionText(option, text, flags[flag] ? `--${flag}` : variable);
    if (!checked.ok) return checked.error;
    options[option] = checked.value as string[];
  }
  const anonymous = flags['anonymous-channels'] ?? env.LIVEDASH_ANONYMOUS_CHANNELS;
  if (anonymous !== undefined) {
    const patterns = list(anonymous);
    const bad = patterns.find((pattern) => !isValidChannelPattern(pattern));
    if (bad !== undefined)
      return `--anonymous-channels: "${bad}" is not a channel pattern (name, prefix.* or *)`;
    options.anonymousChannels = patterns;
  }
  const jwtError = applyJwt(options, pick);
  if (jwtError) return jwtError;
  const cert = pick('tls-cert', 'LIVEDASH_TLS_CERT');
  const key = pick('tls-key', 'LIVEDASH_TLS_KEY');
  if ((cert === undefined) !== (key === undefined)) return '--tls-cert and --tls-key go together';
  if (cert !== undefined && key !== undefined) {
    const certText = readText(cert, 'TLS certificate');
    if (typeof certText === 'object') return certText.error;
    const keyText = readText(key, 'TLS key');
    if (typeof keyText === 'object') return keyText.error;
    options.tls = { cert: certText, key: keyText };
  }
  for (const [flag, option, variable] of LIMITS) {
    const given = flags[flag] !== undefined && flags[flag] !== '' ? `--${flag}` : variable;
    const text = pick(flag, variable);
    if (text === undefined) continue;
    const checked = checkOptionText(option, text, given);
    if (!checked.ok) return checked.error;
    options[option] = checked.value as number;
  }
  return undefined;
}

function applyJwt(
  options: Partial<ServerOptions>,
  pick: (flag: keyof Flags, variable: string) => string | undefined,
): string | undefined {
  const secret = pick('jwt-secret', 'LIVEDASH_JWT_SECRET');
  const publicKeyFile = pick('jwt-public-key', 'LIVEDASH_JWT_PUBLIC_KEY_FILE');
  const jwksFile = pick('jwks', 'LIVEDASH_JWKS_FILE');
  const given = [secret, publicKeyFile, jwksFile].filter((value) => value !== undefined).length;
  if (given === 0) return undefined;
  if (given > 1) return 'give only one of --jwt-secret, --jwt-public-key, --jwks';
  const issuer = pick('jwt-issuer', 'LIVEDASH_JWT_ISSUER');
  const audience = pick('jwt-audience', 'LIVEDASH_JWT_AUDIENCE');
  const claims = {
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  };
  if (secret !== undefined) {
    options.jwt = { secret, ...claims };
  } else if (publicKeyFile !== undefined) {
    const pem = readText(publicKeyFile, 'JWT public key');
    if (typeof pem === 'object') return pem.error;
    options.jwt = { publicKey: pem, ...claims };
  } else if (jwksFile !== undefined) {
    const text = readText(jwksFile, 'JWKS file');
    if (typeof text === 'object') return text.error;
    try {
      options.jwt = { jwks: JSON.parse(text) as JsonWebKeySet, ...claims };
    } catch {
      return `the JWKS file ${jwksFile} is not valid JSON`;
    }
  }
  return undefined;
}
