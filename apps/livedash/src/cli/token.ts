import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { mintToken } from '@livedash/server';

export const TOKEN_USAGE = `Usage: livedash token [options]

Mints a livedash JWT for local use (scripts, tests, a dashboard on your own machine) and prints it.

Key (one of):
  --secret <secret>         HS256 shared secret (or env LIVEDASH_JWT_SECRET); the server needs the same --jwt-secret
  --private-key <file>      PEM private key: RSA signs RS256, EC P-256 signs ES256 (server: --jwt-public-key / --jwks)
Claims:
  --subscribe <patterns>    channels the holder may subscribe to, comma-separated (metrics,team.*); repeatable
  --publish <patterns>      channels the holder may publish to, comma-separated; repeatable
  --ttl <duration>          lifetime: seconds, or with s/m/h/d (default 1h, at most 30d)
  --subject <sub>  --issuer <iss>  --audience <aud>  --kid <key id>
  -h, --help                this text

Example:
  LIVEDASH_JWT_SECRET=… livedash token --subscribe 'metrics,team.*' --publish team.a --ttl 15m`;

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

/** `15m` → 900. Undefined for anything else than a positive whole number with an optional unit. */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,8})([smhd]?)$/.exec(text);
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

const splitPatterns = (values: string[] | undefined): string[] =>
  (values ?? [])
    .flatMap((value) => value.split(','))
    .map((p) => p.trim())
    .filter((p) => p !== '');

/**
 * `livedash token`: prints a signed token on stdout (nothing else, so `$(livedash token …)` works)
 * and returns the exit code; errors go to stderr, and never include the secret.
 *
 * @example
 * process.exitCode = await runTokenCommand(process.argv.slice(3), { out: console.log, err: console.error, env: process.env });
 */
export async function runTokenCommand(args: string[], io: CommandIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(args).values;
  } catch (error) {
    io.err(`livedash token: ${(error as Error).message}\n\n${TOKEN_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(TOKEN_USAGE);
    return 0;
  }
  const ttlSec = parseDuration(values.ttl ?? '1h');
  if (ttlSec === undefined) {
    io.err(
      `livedash token: --ttl must be a positive duration like 3600, 90s, 15m, 12h or 7d (got "${values.ttl}")`,
    );
    return 2;
  }
  // LIVEDASH_JWT_SECRET is the default key only when no --private-key is given.
  const secret =
    values.secret ?? (values['private-key'] === undefined ? io.env.LIVEDASH_JWT_SECRET : undefined);
  let privateKey: string | undefined;
  if (values['private-key'] !== undefined) {
    try {
      privateKey = await readFile(values['private-key'], 'utf8');
    } catch (error) {
      io.err(
        `livedash token: cannot read the private key file: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
      return 2;
    }
  }
  return mint(io, {
    ...claims(values, ttlSec),
    ...(secret === undefined ? {} : { secret }),
    ...(privateKey === undefined ? {} : { privateKey }),
  });
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      secret: { type: 'string' },
      'private-key': { type: 'string' },
      subscribe: { type: 'string', multiple: true },
      publish: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      subject: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      kid: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function claims(values: ReturnType<typeof parse>['values'], ttlSec: number) {
  return {
    subscribe: splitPatterns(values.subscribe),
    publish: splitPatterns(values.publish),
    ttlSec,
    ...(values.subject === undefined ? {} : { subject: values.subject }),
    ...(values.issuer === undefined ? {} : { issuer: values.issuer }),
    ...(values.audience === undefined ? {} : { audience: values.audience }),
    ...(values.kid === undefined ? {} : { kid: values.kid }),
  };
}

async function mint(io: CommandIo, options: Parameters<typeof mintToken>[0]): Promise<number> {
  if (options.subscribe.length === 0 && options.publish.length === 0) {
    io.err(
      'livedash token: give at least one --subscribe or --publish pattern (a token that allows nothing is useless)',
    );
    return 2;
  }
  try {
    io.out(await mintToken(options));
    return 0;
  } catch (error) {
    io.err(`livedash token: ${(error as Error).message}`);
    return 2;
  }
}
