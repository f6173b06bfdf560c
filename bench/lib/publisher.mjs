// The publish loop every server under test runs in its own process, so the load is the same for all:
// `count` messages round-robin over the channels, either at a fixed `rate` (messages/s) or, with
// rate 0, at saturation (`burst` messages per event-loop turn, back to back). Each message's data
// carries its per-channel counter `n` (for loss counting) and its publish time `t` (for latency).
import { nowMs } from './clock.mjs';

const TICK_MS = 5;

export class Publisher {
  #channels;
  #send;
  #counters;
  #pad;

  /**
   * @param channels channel names
   * @param send (channel, data, channelIndex) => void | Promise — publishes one message
   * @param payloadBytes approximate size of the data object
   */
  constructor(channels, send, payloadBytes = 96) {
    this.#channels = channels;
    this.#send = send;
    this.#counters = new Array(channels.length).fill(0);
    this.#pad = 'x'.repeat(Math.max(0, payloadBytes - 48));
  }

  /** Per-channel count of messages published so far (the last `n` of each channel). */
  get counters() {
    return [...this.#counters];
  }

  #publishNext(index) {
    const channelIndex = index % this.#channels.length;
    const n = ++this.#counters[channelIndex];
    // `n` first, then `t`: the load generator finds them without parsing the whole message.
    const data = { n, t: nowMs(), pad: this.#pad };
    const result = this.#send(this.#channels[channelIndex], data, channelIndex);
    if (result && typeof result.catch === 'function')
      result.catch((error) => console.error('publish failed', error));
  }

  /** Publishes `count` messages; resolves when the last one has been handed to the server. */
  run({ rate, count, burst = 10 }) {
    const startedAt = nowMs();
    let sent = 0;
    return new Promise((resolve) => {
      const finish = () => resolve({ published: sent, startedAt, endedAt: nowMs(), counters: this.counters });
      if (rate > 0) {
        const timer = setInterval(() => {
          const due = Math.min(count, Math.floor(((nowMs() - startedAt) * rate) / 1000) + 1);
          while (sent < due) this.#publishNext(sent++);
          if (sent >= count) {
            clearInterval(timer);
            finish();
          }
        }, TICK_MS);
      } else {
        const step = () => {
          const end = Math.min(count, sent + burst);
          while (sent < end) this.#publishNext(sent++);
          if (sent >= count) finish();
          else setImmediate(step);
        };
        step();
      }
    });
  }
}
