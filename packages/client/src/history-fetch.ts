import { isValidChannel } from '@livedash/protocol';
import { parseMessagesResponse } from './transports/poll.js';
import type { FetchLike } from './transports/transport.js';
import type { HistoryEntry } from './types.js';

/** A channel's history as the server answered: the messages after the asked `since`, oldest first. */
export interface HistoryAnswer {
  /** The channel's current epoch on the server. */
  epoch: string;
  /**
   * False when the server no longer held every message after `since` (or `since` was of another
   * epoch): then `entries` is everything it still holds, at most its per-request limit.
   */
  recovered: boolean;
  entries: HistoryEntry[];
}

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
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );
    const body = response.ok ? parseMessagesResponse(await response.json()) : undefined;
    return (
      body && {
        epoch: body.epoch,
        recovered: body.recovered,
        entries: body.messages.map(({ data, seq, epoch: e, ts }) => ({ data, seq, epoch: e, ts })),
      }
    );
  } catch {
    return undefined;
  }
}
