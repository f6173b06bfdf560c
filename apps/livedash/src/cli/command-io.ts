import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Where a CLI command writes and what environment it reads: the process's, or a test's. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
};

/** Exit codes: 0 ok, 1 runtime failure, 2 bad usage (flags, arguments). */
export const ExitCodes = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

export type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * `parseArgs` (strict) that reports a bad flag as one clear line naming the command and its --help,
 * instead of throwing a stack trace at the user.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  config: T,
  io: CliIo,
): { ok: true; value: Parsed<T> } | { ok: false } {
  try {
    return { ok: true, value: parseArgs(config) };
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify .*$/s, '');
    io.err(`livedash ${command}: ${message} (see livedash ${command} --help)`);
    return { ok: false };
  }
}

/**
 * The arguments of a command that talks to a server (`publish`, `tail`): `--url`, `--help` and
 * positionals. Answers the exit code when there is nothing more to do (bad flags, or help printed).
 */
export function parseClientCommandArgs(
  command: string,
  args: string[],
  usage: string,
  io: CliIo,
): { exit: number } | { baseUrl: string; positionals: string[] } {
  const parsed = parseCommandArgs(
    command,
    {
      args,
      options: { url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    },
    io,
  );
  if (!parsed.ok) return { exit: ExitCodes.USAGE };
  const { values, positionals } = parsed.value;
  if (values.help) {
    io.out(usage);
    return { exit: ExitCodes.OK };
  }
  return { baseUrl: serverUrl(values.url, io.env), positionals };
}

/** The server's base URL: `--url`, else `LIVEDASH_URL`, else the default local server. */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return (flag ?? env.LIVEDASH_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
}
