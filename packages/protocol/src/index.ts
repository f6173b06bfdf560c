export { type BackoffOptions, backoffDelay, defaultBackoff, resolveBackoff } from './backoff.js';
export { CHANNEL_PATTERN, channelMatches, isValidChannel, MAX_CHANNEL_LENGTH } from './channel.js';
export {
  type CloseCode,
  CloseCodes,
  closeCodePolicy,
  type ErrorCode,
  ErrorCodes,
  type RetryPolicy,
} from './codes.js';
export { encodeCommand, encodeControl, encodeEnvelope } from './encode.js';
export { LivedashError } from './errors.js';
export * from './frames.js';
export { jsonDepthExceeds } from './json-depth.js';
export { Defaults, EPOCH_PATTERN } from './limits.js';
export {
  isValidMaxRate,
  MAX_RATE_RULE,
  MaxRate,
  maxRateIntervalMs,
  maxRateText,
  parseMaxRateText,
} from './max-rate.js';
export { type ParseCommandOptions, parseCommand, parsePosition } from './parse-command.js';
export { checkServerFrame, parseServerFrame } from './parse-server-frame.js';
export { encodeResumeToken, MAX_RESUME_ENTRIES, parseResumeToken } from './resume-token.js';
export { itemsAfter, RingBuffer } from './ring-buffer.js';
