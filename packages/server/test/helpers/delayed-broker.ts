import type { Position } from '@livedash/protocol';
import type {
  Broker,
  BrokerHealth,
  ChannelPage,
  ChannelQuery,
  ReadResult,
  StoredMessage,
} from '@livedash/server';
import { MemoryBroker } from '@livedash/server';

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A broker as asynchronous as a networked one: subscribe and read take a while (and a read's result
 * arrives well after its snapshot was taken), and live messages arrive late. Lets the Hub's
 * subscribe/recovery ordering be tested against the races a Redis broker has.
 */
export class DelayedBroker implements Broker {
  readonly inner: MemoryBroker;
  readonly #delayMs: () => number;
  #listener: (message: StoredMessage) => void = () => {};
  #delivery: Promise<void> = Promise.resolve();

  constructor(delayMs: () => number = () => (Math.random() < 0.3 ? Math.floor(Math.random() * 5) : 0)) {
    this.inner = new MemoryBroker();
    this.#delayMs = delayMs;
    this.inner.onMessage((message) => {
      // Live delivery lags behind the publish, as Pub/Sub does, but stays in order (the Broker contract).
      const delay = this.#delayMs();
      this.#delivery = this.#delivery
        .then(() => (delay > 0 ? tick(delay) : undefined))
        .then(() => this.#listener(message));
    });
  }

  publish(channel: string, dataJson: string): Promise<StoredMessage> {
    return this.inner.publish(channel, dataJson);
  }
  async subscribe(channel: string): Promise<void> {
    await tick(this.#delayMs());
    await this.inner.subscribe(channel);
    await tick(this.#delayMs());
  }
  async unsubscribe(channel: string): Promise<void> {
    await tick(this.#delayMs());
    await this.inner.unsubscribe(channel);
  }
  onMessage(listener: (message: StoredMessage) => void): void {
    this.#listener = listener;
  }
  async read(channel: string, since?: Position, limit?: number): Promise<ReadResult> {
    await tick(this.#delayMs());
    const result = await this.inner.read(channel, since, limit);
    await tick(this.#delayMs());
    return result;
  }
  channels(query: ChannelQuery): Promise<ChannelPage> {
    return this.inner.channels(query);
  }
  health(): BrokerHealth {
    return this.inner.health();
  }
  onHealth(listener: (health: BrokerHealth) => void): void {
    this.inner.onHealth(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
