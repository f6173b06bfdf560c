/**
 * Every error a livedash server or client reports has a stable `code` from this table.
 * `retry` tells a client what to do when the error closes its connection:
 *  - `retry`: reconnect with the usual backoff;
 *  - `retry-now`: reconnect soon, with jitter (the server is restarting);
 *  - `retry-later`: reconnect, but wait at least a long backoff step (overload, rate limits);
 *  - `never`: do not reconnect until something changes (credentials, configuration).
 */
export type RetryPolicy = 'retry' | 'retry-now' | 'retry-later' | 'never';

/**
 * Code that ships to browsers (the client, `parseServerFrame`) writes codes as `ErrorCode` literals
 * (`'transport_failed'`): the type checks each against this table, and a bundler cannot drop the
 * entries of an object it does not use (the whole table cost the client 0.4 KB gzipped).
 */
export const ErrorCodes = {
  /** The frame is not valid JSON. */
  BAD_JSON: 'bad_json',
  /** A binary WebSocket frame; the protocol is JSON text. */
  BINARY_FRAME: 'binary_frame',
  /** JSON nested deeper than the limit. */
  TOO_DEEP: 'too_deep',
  /** Not an object, or a field with the wrong type, or a required field missing. */
  BAD_COMMAND: 'bad_command',
  /** `action` is not one the server knows. */
  UNKNOWN_ACTION: 'unknown_action',
  /** A key the command does not define. */
  UNKNOWN_KEY: 'unknown_key',
  /** A channel name outside the grammar. */
  INVALID_CHANNEL: 'invalid_channel',
  /** More subscriptions than the per-connection limit. */
  TOO_MANY_SUBSCRIPTIONS: 'too_many_subscriptions',
  /** A frame or request body over the size limit. */
  TOO_LARGE: 'too_large',
  /** No channel by that name (or nothing published on it yet). */
  UNKNOWN_CHANNEL: 'unknown_channel',
  /** No HTTP route at that path. */
  NOT_FOUND: 'not_found',
  /** Credentials missing or wrong. */
  UNAUTHORIZED: 'unauthorized',
  /** Credentials valid, but not for this channel or action. */
  FORBIDDEN: 'forbidden',
  /** The request's `Host` names the server by a name it does not answer to (DNS rebinding defence). */
  HOST_NOT_ALLOWED: 'host_not_allowed',
  /** Credentials expired. */
  TOKEN_EXPIRED: 'token_expired',
  /** Too many frames or requests. */
  RATE_LIMITED: 'rate_limited',
  /** The connection could not keep up and its outgoing queue filled. */
  SLOW_CONSUMER: 'slow_consumer',
  /** The server is shutting down or restarting. */
  SHUTTING_DOWN: 'shutting_down',
  /** The broker (Redis) is unreachable; publishes are refused until it returns. */
  UNAVAILABLE: 'unavailable',
  /** The server holds as many channels or history bytes as it may, and nothing idle could be evicted. */
  CAPACITY_EXCEEDED: 'capacity_exceeded',
  /** A bug or an unexpected failure on the server. */
  INTERNAL: 'internal',
  /** No frame for longer than the heartbeat allows (reported by clients). */
  HEARTBEAT_TIMEOUT: 'heartbeat_timeout',
  /** A connect attempt took too long (reported by clients). */
  CONNECT_TIMEOUT: 'connect_timeout',
  /** A transport could not open or failed (reported by clients). */
  TRANSPORT_FAILED: 'transport_failed',
  /** The position a client resumed from is older than history (reported with `recovered:false`). */
  HISTORY_GAP: 'history_gap',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** WebSocket close codes used by livedash (RFC 6455 registry plus the 4000–4999 private range). */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  UNAUTHORIZED: 4001,
  FORBIDDEN: 4003,
  TOKEN_EXPIRED: 4004,
  SLOW_CONSUMER: 4008,
  RATE_LIMITED: 4029,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

type Close = typeof CloseCodes;

/**
 * What a client should do when the server closes its connection with `code`. The codes are literals
 * checked against `CloseCodes` (`satisfies`), so a browser bundle does not carry the whole table.
 */
export function closeCodePolicy(code: number): RetryPolicy {
  switch (code) {
    case 1012 satisfies Close['SERVICE_RESTART']:
    case 1001 satisfies Close['GOING_AWAY']:
      return 'retry-now';
    case 1013 satisfies Close['TRY_AGAIN_LATER']:
    case 4029 satisfies Close['RATE_LIMITED']:
      return 'retry-later';
    case 4001 satisfies Close['UNAUTHORIZED']:
    case 4003 satisfies Close['FORBIDDEN']:
    case 1008 satisfies Close['POLICY_VIOLATION']:
    case 1002 satisfies Close['PROTOCOL_ERROR']:
    case 1003 satisfies Close['UNSUPPORTED_DATA']:
      return 'never';
    // 4004 (token expired): reconnect once a fresh token is at hand; the client refreshes before retrying.
    // 4008 (slow consumer): reconnect and recover what was missed from history.
    // 1009 (message too big), 1011 (internal), 1000, 1006 and anything else: the usual backoff.
    default:
      return 'retry';
  }
}
