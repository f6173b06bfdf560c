import { Counter, Gauge, Registry } from 'prom-client';
import { PeerFaults } from './peer-faults.js';

export type TransportName = 'ws' | 'sse' | 'poll';

/**
 * The server's Prometheus metrics, in a registry of its own so several servers in one process (tests,
 * benchmarks) never share or clash over counters.
 *
 * @example
 * const metrics = new ServerMetrics();
 * metrics.connections.inc({ transport: 'ws' });
 * const text = await metrics.registry.metrics();
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge<'transport'>;
  readonly subscriptions: Gauge;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter<'transport'>;
  readonly bytesOut: Counter<'transport'>;
  readonly dropped: Counter<'reason'>;
  readonly slowConsumerDisconnects: Counter<'transport'>;
  readonly protocolErrors: Counter<'code'>;
  readonly channelsEvicted: Counter;
  /** Unexpected exceptions while handling one peer (`livedash_peer_faults_total{where}`), logged too. */
  readonly faults: PeerFaults;

  constructor(subscriptionCount: () => number) {
    const registers = [this.registry];
    this.connections = new Gauge({
      name: 'livedash_connections',
      help: 'Open client connections by transport.',
      labelNames: ['transport'],
      registers,
    });
    for (const transport of ['ws', 'sse'] as const) this.connections.set({ transport }, 0);
    this.subscriptions = new Gauge({
      name: 'livedash_subscriptions',
      help: 'Channel subscriptions across all connections of this node.',
      registers,
      collect() {
        this.set(subscriptionCount());
      },
    });
    this.messagesIn = new Counter({
      name: 'livedash_messages_in_total',
      help: 'Messages published through this node.',
      registers,
    });
    this.messagesOut = new Counter({
      name: 'livedash_messages_out_total',
      help: 'Frames (data and control) sent to clients, by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.bytesOut = new Counter({
      name: 'livedash_bytes_out_total',
      help: 'Bytes of frames sent to clients (before WebSocket/HTTP framing), by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.dropped = new Counter({
      name: 'livedash_dropped_total',
      help: 'Frames not delivered, by reason (closed: the connection was already closing; slow_consumer).',
      labelNames: ['reason'],
      registers,
    });
    this.slowConsumerDisconnects = new Counter({
      name: 'livedash_slow_consumer_disconnects_total',
      help: 'Connections closed because their outgoing queue went over maxQueueBytes, by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.protocolErrors = new Counter({
      name: 'livedash_protocol_errors_total',
      help: 'Bad commands and requests answered with an error, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.channelsEvicted = new Counter({
      name: 'livedash_channels_evicted_total',
      help: 'Idle channels (no subscriber) dropped with their history to stay within maxChannels / maxHistoryBytes.',
      registers,
    });
    this.faults = new PeerFaults(this.registry);
  }

  /** Counts one frame of `bytes` sent over `transport`. */
  sent(transport: TransportName, bytes: number): void {
    this.messagesOut.inc({ transport });
    this.bytesOut.inc({ transport }, bytes);
  }
}
