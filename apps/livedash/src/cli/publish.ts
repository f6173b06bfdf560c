import { isValidChannel } from '@livedash/protocol';
import { type CliIo, ExitCodes, parseClientCommandArgs } from './command-io.js';

export const PUBLISH_USAGE = `Usage: livedash publish <channel> <json> [--url <server>]

Publishes one JSON value on a channel through the HTTP API and prints {channel, epoch, seq}.

Options:
  --url <server>   server base URL (env LIVEDASH_URL; default http://127.0.0.1:8080)
  -h, --help       show this help

Environment:
  LIVEDASH_PUBLISH_TOKEN   the server's publish token (required)

Example:
  LIVEDASH_PUBLISH_TOKEN=… livedash publish orders '{"id":"A-1","total":12.5}'`;

/** `livedash publish <channel> <json>`: resolves with the exit code. */
export async function runPublish(args: string[], io: CliIo): Promise<number> {
  const parsed = parseClientCommandArgs('publish', args, PUBLISH_USAGE, io);
  if ('exit' in parsed) return parsed.exit;
  const { baseUrl, positionals } = parsed;
  const usage = (message: string) => {
    io.err(`livedash publish: ${message} (see livedash publish --help)`);
    return ExitCodes.USAGE;
  };
  if (positionals.length !== 2) return usage('expected exactly two arguments: <channel> <json>');
  const [channel, json] = positionals as [string, string];
  if (!isValidChannel(channel)) return usage(`invalid channel name "${String(channel).slice(0, 64)}"`);
  try {
    JSON.parse(json);
  } catch {
    return usage(`the data is not valid JSON: ${json.slice(0, 64)}`);
  }
  const token = io.env.LIVEDASH_PUBLISH_TOKEN;
  if (!token) return usage('set LIVEDASH_PUBLISH_TOKEN to the server publish token');
  const url = `${baseUrl}/api/channels/${channel}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: json,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    io.err(`livedash publish: cannot reach ${url}: ${(error as Error).message}`);
    return ExitCodes.FAILURE;
  }
  const body = await response.text();
  if (!response.ok) {
    io.err(`livedash publish: ${response.status} ${body}`);
    return ExitCodes.FAILURE;
  }
  io.out(body);
  return ExitCodes.OK;
}
