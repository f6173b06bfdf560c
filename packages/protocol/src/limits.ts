/** Defaults shared by server and client. Each is configurable; see docs/protocol.md. */
export const Defaults = {
  /** Largest WebSocket frame or HTTP body accepted, in bytes. Over it: close 1009 / HTTP 413. */
  maxFrameBytes: 64 * 1024,
  /** Deepest JSON nesting accepted in a frame or body. */
  maxJsonDepth: 32,
  /** Channels one connection may be subscribed to at once. */
  maxSubscriptions: 256,
  /** Server heartbeat interval, ms. */
  heartbeatMs: 15_000,
  /** History kept per channel: at most this many messages… */
  historyMessages: 1000,
  /** …and none older than this, ms. */
  historyMaxAgeMs: 5 * 60_000,
} as const;

/** Epochs are short opaque strings from this alphabet, so they fit resume tokens without escaping. */
export const EPOCH_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
