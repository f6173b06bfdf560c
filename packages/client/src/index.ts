export {
  type BackoffOptions,
  backoffDelay,
  defaultBackoff,
  RingBuffer,
  resolveBackoff,
} from '@livedash/protocol';
export { Batcher, type BatcherOptions } from './batcher.js';
export { Conflator, conflate } from './conflate.js';
export { DashboardWebSocket, type DashboardWebSocketOptions } from './dashboard-websocket.js';
export { browserEnvironment, type EnvironmentLike } from './environment.js';
export {
  afterMs,
  type CancelScheduled,
  FALLBACK_FRAME_MS,
  nextFrame,
  type Scheduler,
} from './frame-scheduler.js';
export { type ChannelOptions, LiveClient } from './live-client.js';
export type { LiveClientOptions } from './options.js';
export { type ConnectionEvent, initialConnectionState, transition } from './state.js';
// The stores LiveClient hands out (channel, connection, history): external stores for useSyncExternalStore.
export { ChannelStore } from './stores/channel-store.js';
export { ConnectionStore } from './stores/connection-store.js';
export { type HistoryOptions, HistoryStore } from './stores/history-store.js';
export type { StoreSource } from './stores/store-source.js';
export { type TokenProvider, tokenExpiresAt } from './token-source.js';
export type {
  EventSourceConstructor,
  EventSourceLike,
  FetchLike,
  WebSocketConstructor,
  WebSocketLike,
} from './transports/transport.js';
export type {
  ChannelData,
  ChannelMap,
  ChannelSnapshot,
  ChannelStatus,
  ConnectionError,
  ConnectionSnapshot,
  ConnectionStatus,
  ExternalStore,
  HistoryEntry,
  MessageListener,
  MessageMeta,
  ResetInfo,
  StateChange,
  SubscribedInfo,
  SubscribeOptions,
  TransportName,
} from './types.js';
