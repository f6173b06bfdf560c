export { defaultClientUrl, getDefaultClient, resetDefaultClient } from './default-client.js';
export { LiveClientContext, useLiveClient } from './live-context.js';
export { LiveProvider, type LiveProviderProps } from './live-provider.js';
export { isPlainObject, shallowEqual, shallowMerge } from './shallow.js';
// The framework-free stores behind the hooks, for users who build their own hooks or bindings.
export { BufferedStore, type BufferedStoreOptions, type BufferSource } from './stores/buffered-store.js';
export {
  type PollingFetcher,
  type PollingSnapshot,
  type PollingStatus,
  PollingStore,
  type PollingStoreOptions,
  type VisibilitySource,
} from './stores/polling-store.js';
export { ReducedStore, type ReducedStoreOptions } from './stores/reduced-store.js';
export {
  type EventSourceConstructor as SSEEventSourceConstructor,
  type SSESnapshot,
  type SSEStatus,
  SSEStore,
  type SSEStoreOptions,
} from './stores/sse-store.js';
export { useBufferedUpdates } from './use-buffered-updates.js';
export { type ChannelState, type UseChannelOptions, useChannel } from './use-channel.js';
export { useConnectionState } from './use-connection-state.js';
export { type PollingResult, usePolling } from './use-polling.js';
export { type UseRealTimeDataOptions, useRealTimeData } from './use-real-time-data.js';
export { useSSE } from './use-sse.js';
