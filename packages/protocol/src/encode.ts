import type { ClientCommand, ControlFrame } from './frames.js';

/**
 * Encodes a data envelope around already-serialized `dataJson`. The server calls this once per
 * publish and sends the same string to every subscriber on every transport. Channel names and epochs
 * come from grammars without characters that need JSON escaping, so they are spliced in directly.
 */
export function encodeEnvelope(
  channel: string,
  seq: number,
  epoch: string,
  ts: number,
  dataJson: string,
): string {
  return `{"type":"${channel}","seq":${seq},"epoch":"${epoch}","ts":${ts},"data":${dataJson}}`;
}

export function encodeControl(frame: ControlFrame): string {
  return JSON.stringify(frame);
}

/** Serializes a client command (a `since` Map becomes a plain object). */
export function encodeCommand(command: ClientCommand): string {
  if (command.action === 'subscribe' && command.since) {
    return JSON.stringify({ ...command, since: Object.fromEntries(command.since) });
  }
  return JSON.stringify(command);
}
