import { isValidChannel } from '@livedash/protocol';
import { bearer } from './token-source.js';
import { type MessagesResponse, parseMessagesResponse } from './transports/poll.js';
import type { FetchLike } from './transports/transport.js';

/**
 * A channel's history as the server answered: its current `epoch`, and `messages` after the asked
 * `since`, oldest first (envelopes, which are history entries). `recovered` is false when the server no
 * longer held every message after `since` (or `since` was of another epoch): then `messages` is
 * everything it still holds, at most its per-request limit.
 */
export type HistoryAnswer = MessagesResponse;

/**
 * `GET /api/channels/:channel/messages?since=…[&epoch=…]`: what the server's history holds after
 * `since`; undefined on any failure, since a backfill is a nicety (without it a chart fills from live
 * data). The one HTTP history read of the client: an in-page client's backfill and a worker's shared
 * history both use it.
 */
export async function fetchChannelHistory(
  fetchImpl: FetchLike | undefined,
  baseUrl: string,
  token: string | undefined,
  channel: string,
  since: number,
  epoch?: string,
): Promise<HistoryAnswer | undefined> {
  if (!fetchImpl || !isValidChannel(channel)) return undefined;
  const query = `since=${Math.max(0, Math.floor(since))}${epoch ? `&epoch=${encodeURIComponent(epoch)}` : ''}`;
  try {
    const response = await fetchImpl(
      `${baseUrl}/api/channels/${encodeURIComponent(channel)}/messages?${query}`,
      { headers: bearer(token) },
    );
    return response.ok ? parseMessagesResponse(await response.json()) : undefined;
  } catch {
    return undefined;
  }
}
