import {
  type DataEnvelope,
  type ErrorFrame,
  encodeCommand,
  isValidChannel,
  type Position,
  parseServerFrame,
  type SubscribeCommand,
  type SubscribedFrame,
} from '@livedash/protocol';
import WebSocket from 'ws';
import { type CliIo, ExitCodes, parseClientCommandArgs } from './command-io.js';

export const TAIL_USAGE = `Usage: livedash tail <channel…> [--url <server>]

Prints every message on the channels as one JSON line ({"type":channel,"seq","epoch","ts","data"})
until interrupted. When the connection drops it reconnects and resumes where it left off, so no
message is missed while history holds it (a gap it cannot fill is reported on stderr).

Options:
  --url <server>   server base URL (env LIVEDASH_URL; default http://127.0.0.1:8080)
  -h, --help       show this help`;

const MAX_BACKOFF_MS = 10_000;

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
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws`;
  const stop = stopSignal ?? signalStop();
  await tail(url, [...new Set(positionals)], io, stop);
  return ExitCodes.OK;
}

function signalStop(): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return controller.signal;
}

/** Connects, subscribes (resuming from `positions`), prints, and reconnects with backoff until stopped. */
function tail(url: string, channels: string[], io: CliIo, stop: AbortSignal): Promise<void> {
  const positions = new Map<string, Position>();
  let attempt = 0;
  let socket: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(retry);
      if (socket && socket.readyState !== WebSocket.CLOSED) {
        socket.once('close', () => resolve());
        socket.close();
      } else resolve();
    };
    if (stop.aborted) return resolve();
    stop.addEventListener('abort', finish, { once: true });
    const connect = () => {
      const ws = new WebSocket(url);
      socket = ws;
      ws.on('open', () => {
        attempt = 0;
        const command: SubscribeCommand = { action: 'subscribe', channels };
        if (positions.size > 0) command.since = positions;
        ws.send(encodeCommand(command));
      });
      ws.on('message', (data) => {
        const text = String(data);
        const frame = parseServerFrame(text);
        if (!frame.ok) return io.err(`livedash tail: ${frame.error.message}`);
        const value = frame.value;
        if (value.type === '$error') {
          const error = value as ErrorFrame;
          io.err(`livedash tail: ${error.code}: ${error.message}`);
        } else if (value.type === '$subscribed') {
          const subscribed = value as SubscribedFrame;
          if (positions.has(subscribed.channel) && !subscribed.recovered) {
            io.err(
              `livedash tail: ${subscribed.channel}: messages were missed (history no longer holds them)`,
            );
          }
        } else if (!value.type.startsWith('$')) {
          const envelope = value as DataEnvelope;
          positions.set(envelope.type, { epoch: envelope.epoch, seq: envelope.seq });
          io.out(text);
        }
      });
      ws.on('error', () => {});
      ws.on('close', (code) => {
        if (stop.aborted) return;
        const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt++) * (0.5 + Math.random() / 2);
        io.err(`livedash tail: connection closed (${code}); reconnecting in ${Math.round(delay)} ms`);
        retry = setTimeout(connect, delay);
      });
    };
    connect();
  });
}
