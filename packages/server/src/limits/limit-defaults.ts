/**
 * Defaults for the limits that protect the server from one client (docs/security.md explains each).
 * Frame/body size, JSON depth and subscriptions per connection live in the protocol's `Defaults`.
 */
export const LimitDefaults = {
  /** Open WebSocket connections from one address. Over it: the upgrade gets HTTP 429. */
  maxConnectionsPerIp: 64,
  /** Open SSE streams from one address. Over it: HTTP 429. */
  maxSseStreamsPerIp: 16,
  /** Frames per second one WebSocket connection may send, sustained… */
  framesPerSec: 50,
  /** …and at once after a quiet spell. Over it: `$error rate_limited`, then close 4029 if it goes on. */
  frameBurst: 100,
  /** Total size of a request's header block, bytes. Over it: HTTP 431 from Node's parser. */
  maxHeaderBytes: 16 * 1024,
  /** Header lines per request. Over it: HTTP 431. */
  maxHeaders: 64,
  /** Most messages one history request (`?limit=`, `since` replay) returns. Over it: clamped to this. */
  maxHistoryMessages: 1000,
  /**
   * Channels held in memory. A publish creating one more evicts the idle channel (no subscriber) published
   * least recently; with none idle it is refused (`capacity_exceeded`, HTTP 507).
   */
  maxChannels: 10_000,
  /** Bytes of history held in memory over all channels; over it, idle channels are evicted the same way. */
  maxHistoryBytes: 128 * 1024 * 1024,
  /**
   * Bytes of a refused request body (413, 415, 401/403) still read and dropped after the answer, so the
   * client, still sending, reads the answer instead of a connection reset. Past it the connection is cut.
   * The same after a WebSocket connection fails (a message over `maxFrameBytes`: close 1009), until
   * the client's close frame.
   */
  maxDiscardBytes: 8 * 1024 * 1024,
  /** …and for how long, ms. */
  maxDiscardMs: 5000,
} as const;
