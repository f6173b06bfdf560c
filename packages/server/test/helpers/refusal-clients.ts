/**
 * Real clients posting a body the server refuses, for the tests that check the refusal reaches them:
 * Node's fetch (undici) and curl. Each returns `"<status> <error code>"`, or what went wrong instead,
 * so a test compares many attempts at once. Not a test file itself.
 */
import { spawn } from 'node:child_process';
import { fetch } from 'undici';

/** 2 MB of JSON: far over the 64 KiB default body limit, large enough that the client is still sending when refused. */
export function bigJsonBody(): Buffer {
  const body = Buffer.alloc(2 * 1024 * 1024, 0x20);
  body.write('{"v":"', 0);
  body.write('"}', body.length - 2);
  return body;
}

/** POSTs `body` with Node's fetch: `"<status> <code>"`, or `network error: …` when no answer was read. */
export async function fetchOutcome(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<string> {
  try {
    const response = await fetch(url, { method: 'POST', headers, body });
    const answer = (await response.json()) as { error?: { code?: string } };
    return `${response.status} ${answer.error?.code}`;
  } catch (error) {
    return `network error: ${String((error as Error).cause ?? error)}`;
  }
}

/** Runs curl; resolves with the status it printed and the body it received. */
export function curl(args: string[]): Promise<{ status: string; body: string; exit: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['--silent', '--show-error', '--max-time', '20', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (exit) => {
      const marker = out.lastIndexOf('\n@status=');
      const status = marker >= 0 ? out.slice(marker + 9).trim() : '';
      resolve({ status, body: marker >= 0 ? out.slice(0, marker) : out + err, exit });
    });
  });
}

/**
 * POSTs the file at `bodyFile` with curl, with `Expect: 100-continue` or with it turned off (curl sends
 * it by itself for bodies over 1 MiB): `"<status> <code>"`, or what curl got instead.
 */
export async function curlOutcome(
  url: string,
  headers: Record<string, string>,
  bodyFile: string,
  expect100: boolean,
): Promise<string> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const result = await curl([
    ...headerArgs,
    '-H',
    expect100 ? 'Expect: 100-continue' : 'Expect:',
    '--data-binary',
    `@${bodyFile}`,
    '--write-out',
    '\n@status=%{http_code}',
    url,
  ]);
  let code: string | undefined;
  try {
    code = (JSON.parse(result.body) as { error?: { code?: string } }).error?.code;
  } catch {
    code = `unparsable body ${JSON.stringify(result.body.slice(0, 200))}, exit ${result.exit}`;
  }
  return `${result.status} ${code}`;
}
