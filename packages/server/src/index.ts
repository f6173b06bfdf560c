export { RingBuffer } from '@livedash/protocol';
export { type AttachedLivedash, type AttachOptions, attach } from './attach.js';
export { isValidChannelPattern } from './auth/channel-grant.js';
export { jwtOptionsSchema } from './auth/jwt-options.js';
export { type MintOptions, mintToken } from './auth/mint-token.js';
export {
  createTokenVerifier,
  type JwtOptions,
  type TokenVerifier,
  type VerifiedToken,
} from './auth/token-verifier.js';
export type {
  Broker,
  BrokerHealth,
  ChannelInfo,
  ChannelPage,
  ChannelQuery,
  ReadResult,
  StoredMessage,
} from './brokers/broker.js';
export { pageOfNames } from './brokers/channel-page.js';
export { MemoryBroker, type MemoryBrokerOptions } from './brokers/memory.js';
export { connectRedisBroker, RedisBroker, type RedisBrokerOptions } from './brokers/redis-broker.js';
export {
  connectNodeBroker,
  DEFAULT_LOCAL_CHANNELS,
  type NodeBrokerOptions,
  NodeLocalBroker,
  type RedisBrokerSettings,
  redisTargetOf,
  usesRedis,
} from './brokers/redis-node-local.js';
export {
  describeTarget,
  type HostPort,
  parseClusterTarget,
  parseSentinelTarget,
  type RedisTarget,
  redactUrl,
} from './brokers/redis-target.js';
export { type LivedashPluginOptions, livedash } from './fastify-plugin.js';
export { Hub, type HubOptions, type MessageMeta, type PublishResult, type Watcher } from './hub.js';
export { addressGroup, ClientAddresses, isTrustedProxyEntry } from './limits/client-address.js';
export { type BrokerOptions, checkCoreOptions } from './live-core.js';
export {
  boolean,
  channelName,
  channelPattern,
  describeIssues,
  describeValue,
  duration,
  finiteNumber,
  integer,
  isOrigin,
  keysAt,
  listOf,
  nonEmptyText,
  oneOf,
  parseDuration,
  text,
} from './option-values.js';
export {
  brokerOptionShapes,
  checkOptions,
  createServerOptionsSchema,
  defaultOptions,
  type HistoryRule,
  historyRuleSchema,
  NODE_NAME_PATTERN,
  resolveOptions,
  type ServerOptions,
  serverOptionShapes,
  serverOptionsSchema,
} from './options.js';
export { type CreateServerOptions, createServer, type LivedashServer, REQUEST_TIMEOUT_MS } from './server.js';
export { ServerMetrics } from './server-metrics.js';
export { CHANNEL_PARAM_MAX_LENGTH } from './transports/http.js';
export { type HttpErrorBody, sendError } from './transports/http-errors.js';
