import { LiveClient, type WebSocketConstructor } from '@livedash/client';
import { isValidChannel } from '@livedash/protocol';
import WebSocket from 'ws';
import { type CliIo, ExitCodes, parseClientCommandArgs } from './command-io.js';

export const TAIL_USAGE = `Usage: livedash tail <channel…> [--url <server>]

Prints every message on the channels as one JSON line ({"type":channel,"seq","epoch","ts","data"})
until interrupted. When the connection drops it reconnects and resumes where it left off, so no
message is missed while history holds it (a gap it cannot fill is reported on stderr).

Options:
  --url <server>   server base URL (env LIVEDASH_URL; default http://127.0.0.1:8080)
  -h, --help       show this help`;

/**
 * `livedash tail`: resolves with the exit code when `stop` fires (SIGINT/SIGTERM by default).
 * `stopSignal` lets tests end it without signals.
 */
export async function runTail(args: string[], io: CliIo, stopSignal?: AbortSignal): Promise<number> {
  const parsed = parseClientCommandArgs('tail', args, TAIL_USAGE, io);
  if ('exit' in parsed) return parsed.exit;
  const { baseUrl, positionals } = parsed;
  if (positionals.length === 0) {
    io.err('livedash tail: name at least one channel (see livedash tail --help)');
    return ExitCodes.USAGE;
  }
  const invalid = positionals.find((name: string) => !isValidChannel(name)) as string | undefined;
  if (invalid !== undefined) {
    io.err(`livedash tail: invalid channel name "${invalid.slice(0, 64)}"`);
    return ExitCodes.USAGE;
  }
  const stop = stopSignal ?? signalStop();
  await tail(baseUrl, [...new Set(positionals)], io, stop);
  return ExitCodes.OK;
}

function signalStop(): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return controller.signal;
}

/**
 * Follows the channels with a `LiveClient` (WebSocket, falling back to HTTP polling), so tail resumes,
 * backs off and detects dead connections exactly as every other livedash client does. Resolves once
 * `stop` fires and the client is closed.
 */
function tail(baseUrl: string, channels: string[], io: CliIo, stop: AbortSignal): Promise<void> {
  if (stop.aborted) return Promise.resolve();
  const client = new LiveClient({ url: baseUrl, WebSocket: WebSocket as unknown as WebSocketConstructor });
  client.onState((next, previous) => {
    if (next.status === previous.status) return;
    const why = next.lastError ? ` (${next.lastError.message})` : '';
    if (next.status === 'reconnecting' && next.nextRetryAt !== null) {
      const delay = Math.max(0, next.nextRetryAt - Date.now());
      io.err(`livedash tail: connection lost${why}; reconnecting in ${delay} ms`);
    } else if (next.status === 'failed') {
      io.err(`livedash tail: giving up${why}`);
    } else if (next.status === 'open' && previous.status !== 'connecting') {
      io.err(`livedash tail: connected over ${next.transport}`);
    }
  });
  for (const channel of channels) {
    client.subscribe(
      channel,
      (data, meta) => {
        io.out(JSON.stringify({ type: channel, seq: meta.seq, epoch: meta.epoch, ts: meta.ts, data }));
      },
      {
        onReset: ({ error }) => io.err(`livedash tail: ${channel}: messages were missed (${error.message})`),
        onError: (error) => io.err(`livedash tail: ${channel}: ${error.code}: ${error.message}`),
      },
    );
  }
  return new Promise<void>((resolve) => {
    stop.addEventListener(
      'abort',
      () => {
        client.close();
        resolve();
      },
      { once: true },
    );
  });
}
