import type { ParseArgsConfig } from 'node:util';
import { describeIssues, type JwtOptions } from '@livedash/server';
import type { LivedashOptions } from '../app-options.js';
import { checkDirectory, readDashboardFile, readJwksFile, readNamedFile } from '../config-key-files.js';
import { OPTION_SOURCES, type OptionSource, SECRET_OPTIONS, valueFromText } from '../option-sources.js';
import { parseScrapeFlags } from '../sources/scrape/scrape-config.js';

/**
 * `livedash serve`'s flags and environment variables, built from the one table of options
 * (`OPTION_SOURCES`): each is parsed from its text, checked by its option's schema (the one the
 * config file and `createServer` use) and applied the way the config file's key is, so a flag, a
 * variable and a key of one option take the same values and refuse the rest with the same message,
 * each prefixed by where it came from: `--max-headers: expected an integer from 8 to 10000, got 1`.
 */

/** The `parseArgs` options of every flag in the table. */
export const SERVE_FLAGS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  OPTION_SOURCES.flatMap((row) =>
    row.flag === undefined
      ? []
      : [
          [
            row.flag,
            row.form === 'boolean'
              ? { type: 'boolean' as const }
              : { type: 'string' as const, multiple: row.option === 'scrape' },
          ],
        ],
  ),
);

export const SECURITY_USAGE = `Security (docs/security.md):
  --jwt-secret <secret>      HS256 secret for subscriber/publisher tokens (env LIVEDASH_JWT_SECRET, preferred:
                             a flag shows in the process list); mint tokens with livedash token
  --jwt-public-key <file>    PEM public key, RS256 or ES256 (env LIVEDASH_JWT_PUBLIC_KEY_FILE)
  --jwks <file>              JWKS file, keys picked by kid (env LIVEDASH_JWKS_FILE)
  --jwt-issuer <iss>         required iss (env LIVEDASH_JWT_ISSUER);  --jwt-audience <aud>  required aud
                             (env LIVEDASH_JWT_AUDIENCE)
  --jwt-clock-tolerance-sec <s>  clock skew tolerated on exp/nbf (env LIVEDASH_JWT_CLOCK_TOLERANCE_SEC; default 30)
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
                             still read and dropped so the client reads the refusal (the bytes also
                             after a refused WebSocket message, until the client's close frame)
  --heartbeat-ms <ms> [15000]  --request-timeout-ms <ms> [10000]  --response-timeout-ms <ms> [30000]
  --shutdown-timeout-ms <ms> [5000]
Every flag takes what its config key takes; each has an environment variable (docs/configuration.md).`;

type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** An option given by flag or variable, checked; `source` names it (`--max-headers`, `LIVEDASH_MAX_HEADERS`). */
interface GivenOption {
  value: unknown;
  source: string;
}

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
  let lines = describeIssues(result.error.issues, source);
  if (SECRET_OPTIONS.has(option)) lines = lines.map((line) => line.replace(/, got .*$/s, ''));
  return { ok: false, error: lines.join('; ') };
}

/** The flag's text, else the variable's (an empty one counts as not set), with the name it came under. */
function givenText(
  row: OptionSource,
  flags: FlagValues,
  env: NodeJS.ProcessEnv,
): { texts: string[]; source: string } | undefined {
  const flag = row.flag === undefined ? undefined : flags[row.flag];
  if (flag === true) return { texts: ['true'], source: `--${row.flag}` };
  const flagTexts = (Array.isArray(flag) ? flag : [flag]).filter(
    (text): text is string => typeof text === 'string' && text !== '',
  );
  if (flagTexts.length > 0) return { texts: flagTexts, source: `--${row.flag}` };
  const variable = row.env === undefined ? undefined : env[row.env];
  if (variable === undefined || variable === '') return undefined;
  // A list of scrape targets in one variable: the flags' texts, separated by spaces.
  const texts = row.option === 'scrape' ? variable.split(/\s+/).filter((text) => text !== '') : [variable];
  return { texts, source: row.env as string };
}

/** Every option given by flag or variable, checked by its schema; every problem is reported. */
function readGiven(flags: FlagValues, env: NodeJS.ProcessEnv, errors: string[]): Map<string, GivenOption> {
  const given = new Map<string, GivenOption>();
  for (const row of OPTION_SOURCES) {
    const found = givenText(row, flags, env);
    if (found === undefined) continue;
    if (row.option === 'scrape') {
      const scrape = parseScrapeFlags(found.texts, found.source);
      if (scrape.ok) given.set(row.option, { value: scrape.value, source: found.source });
      else errors.push(scrape.error);
      continue;
    }
    const checked = checkOptionText(row.option, found.texts[0] as string, found.source);
    if (checked.ok) given.set(row.option, { value: checked.value, source: found.source });
    else errors.push(checked.error);
  }
  return given;
}

/**
 * Applies the flags and environment variables over `options` (what the config file set): flag beats
 * variable beats file. Files they name are read as the config file's are. Returns every problem,
 * each naming the flag or variable; secrets never appear in them.
 *
 * @example
 * const errors = applyFlagsAndEnv(parsed.values, process.env, options);
 */
export function applyFlagsAndEnv(
  flags: FlagValues,
  env: NodeJS.ProcessEnv,
  options: LivedashOptions,
): string[] {
  const errors: string[] = [];
  const given = readGiven(flags, env, errors);
  if (errors.length > 0) return errors;
  const fields = options as Record<string, unknown>;
  for (const [option, { value, source }] of given) {
    if (option === 'dashboard') {
      const dashboard = readDashboardFile(value as string, source);
      if (dashboard.ok) options.dashboard = dashboard.value;
      else errors.push(dashboard.error);
    } else if (option === 'dashboards' || option === 'staticDir') {
      const directory = checkDirectory(value as string, source);
      if (directory.ok) fields[option] = directory.value;
      else errors.push(directory.error);
    } else if (!option.includes('.')) {
      fields[option] = value;
    }
  }
  applyJwt(given, options, errors);
  applyTls(given, options, errors);
  return errors;
}

const JWT_KEY_OPTIONS = ['jwt.secret', 'jwt.publicKey', 'jwt.jwks'] as const;
const JWT_CLAIM_OPTIONS = ['jwt.issuer', 'jwt.audience', 'jwt.clockToleranceSec'] as const;

/**
 * A key source given by flag or variable replaces the file's whole `jwt` section (its claims then come
 * from flags and variables too); claims given alone change those of the file's section, and need one.
 */
function applyJwt(given: Map<string, GivenOption>, options: LivedashOptions, errors: string[]): void {
  const keys = JWT_KEY_OPTIONS.filter((option) => given.has(option));
  const claims: JwtOptions = {};
  for (const option of JWT_CLAIM_OPTIONS) {
    const claim = given.get(option);
    if (claim !== undefined) Object.assign(claims, { [option.slice('jwt.'.length)]: claim.value });
  }
  if (keys.length > 1) {
    const sources = keys.map((option) => given.get(option)?.source);
    errors.push(`${sources.join(' and ')}: give only one of --jwt-secret, --jwt-public-key, --jwks`);
    return;
  }
  const [keyOption] = keys;
  if (keyOption === undefined) {
    if (Object.keys(claims).length === 0) return;
    if (options.jwt === undefined) {
      const sources = JWT_CLAIM_OPTIONS.flatMap((option) => given.get(option)?.source ?? []);
      errors.push(
        `${sources.join(', ')}: needs a JWT key: --jwt-secret, --jwt-public-key, --jwks, or a jwt section in the config file`,
      );
      return;
    }
    options.jwt = { ...options.jwt, ...claims };
    return;
  }
  const { value, source } = given.get(keyOption) as GivenOption;
  if (keyOption === 'jwt.secret') {
    options.jwt = { secret: value as string, ...claims };
  } else if (keyOption === 'jwt.publicKey') {
    const publicKey = readNamedFile(value as string, source);
    if (publicKey.ok) options.jwt = { publicKey: publicKey.value, ...claims };
    else errors.push(publicKey.error);
  } else {
    const jwks = readJwksFile(value as string, source);
    if (jwks.ok) options.jwt = { jwks: jwks.value, ...claims };
    else errors.push(jwks.error);
  }
}

/** A certificate and key given by flag or variable go together and replace the file's `tls`. */
function applyTls(given: Map<string, GivenOption>, options: LivedashOptions, errors: string[]): void {
  const cert = given.get('tls.cert');
  const key = given.get('tls.key');
  if (cert === undefined && key === undefined) return;
  if (cert === undefined || key === undefined) {
    errors.push(`${(cert ?? key)?.source}: --tls-cert and --tls-key go together`);
    return;
  }
  const certText = readNamedFile(cert.value as string, cert.source);
  const keyText = readNamedFile(key.value as string, key.source);
  if (!certText.ok) errors.push(certText.error);
  if (!keyText.ok) errors.push(keyText.error);
  if (certText.ok && keyText.ok) options.tls = { cert: certText.value, key: keyText.value };
}
