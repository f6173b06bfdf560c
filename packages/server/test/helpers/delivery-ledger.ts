import type { MessageMeta, SubscribeOptions } from '@livedash/client';

/**
 * What happened to every publish of a run, as seen by the publisher and by each subscriber: which were
 * acknowledged, which each subscriber got, which it lost, got twice or out of order, and whether it was
 * told (a reset: `recovered:false` or a new epoch) before the first message after anything it lost.
 *
 * Every publish carries a number `n` that grows by one per attempt (a refused attempt is not retried with
 * the same `n`), so a delivery names its publish whatever epoch and seq it was given.
 */
export interface PublishAttempt {
  n: number;
  /** The node it was posted to. */
  url: string;
  /** HTTP status; 0 when the request itself failed (connection refused, timed out). */
  status: number;
  epoch?: string;
  seq?: number;
  /** When the answer came, ms since the Unix epoch. */
  at: number;
}

export interface Delivery {
  n: number;
  epoch: string;
  seq: number;
  /** The SDK said state built from earlier messages must be thrown away (`meta.reset`). */
  reset: boolean;
}

export interface SubscriberCounts {
  name: string;
  /** Distinct publishes delivered. */
  delivered: number;
  /** Acknowledged publishes never delivered. */
  lost: number;
  /** Of `lost`, those not followed by a reset: the subscriber was never told. */
  lostSilently: number;
  /** Deliveries of a publish already delivered, or of an epoch and seq already delivered. */
  duplicated: number;
  /** Deliveries of a publish older than one delivered before it. */
  outOfOrder: number;
  /** Deliveries that skipped a seq within an epoch without a reset. */
  silentGaps: number;
  /** Times the subscriber was told to reset (`onReset`). */
  resets: number;
  /** Delivered publishes whose publisher was refused (503) or got no answer: applied, never acknowledged. */
  deliveredUnacknowledged: number;
}

export interface RunCounts {
  attempted: number;
  acknowledged: number;
  refused: number;
  /** From the first refused publish to the first acknowledged one after the last refusal, ms. */
  refusedSpanMs: number;
  /** The longest stretch, on one node, from a refused publish to the next one acknowledged there, ms. */
  longestRefusalMs: number;
  subscribers: SubscriberCounts[];
}

type Payload = { n: number };

export class DeliveryLedger {
  readonly attempts: PublishAttempt[] = [];
  readonly #subscribers = new Map<string, { deliveries: Delivery[]; resets: number; subscribed: number }>();

  /** A listener and options for `client.subscribe(channel, …)` that record under `name`. */
  recorder(name: string): {
    listener: (data: Payload, meta: MessageMeta) => void;
    options: SubscribeOptions;
    subscribed: () => number;
  } {
    const entry = { deliveries: [] as Delivery[], resets: 0, subscribed: 0 };
    this.#subscribers.set(name, entry);
    return {
      listener: (data, meta) =>
        entry.deliveries.push({ n: data.n, epoch: meta.epoch, seq: meta.seq, reset: meta.reset === true }),
      options: {
        onReset: () => entry.resets++,
        onSubscribed: () => entry.subscribed++,
      },
      subscribed: () => entry.subscribed,
    };
  }

  deliveries(name: string): readonly Delivery[] {
    return this.#subscribers.get(name)?.deliveries ?? [];
  }

  /** The highest `n` acknowledged so far (0 before any). */
  lastAcknowledged(): number {
    for (let i = this.attempts.length - 1; i >= 0; i--) {
      const attempt = this.attempts[i]!;
      if (attempt.status === 200) return attempt.n;
    }
    return 0;
  }

  /** How many publishes were acknowledged so far. */
  acknowledgedCount(): number {
    return this.attempts.filter((attempt) => attempt.status === 200).length;
  }

  /** True once every subscriber has a delivery of `n` or later. */
  allReached(n: number): boolean {
    for (const { deliveries } of this.#subscribers.values()) {
      if ((deliveries.at(-1)?.n ?? 0) < n) return false;
    }
    return true;
  }

  counts(): RunCounts {
    const acknowledged = this.attempts.filter((attempt) => attempt.status === 200);
    const acknowledgedNs = new Set(acknowledged.map((attempt) => attempt.n));
    let longestRefusalMs = 0;
    const refusedSince = new Map<string, number>();
    for (const attempt of this.attempts) {
      const since = refusedSince.get(attempt.url);
      if (attempt.status !== 200) {
        if (since === undefined) refusedSince.set(attempt.url, attempt.at);
      } else if (since !== undefined) {
        longestRefusalMs = Math.max(longestRefusalMs, attempt.at - since);
        refusedSince.delete(attempt.url);
      }
    }
    const refusals = this.attempts.filter((attempt) => attempt.status !== 200);
    const firstRefused = refusals[0];
    const lastRefused = refusals.at(-1);
    const backAt = this.attempts.find(
      (a) => a.status === 200 && lastRefused !== undefined && a.n > lastRefused.n,
    )?.at;
    const refusedSpanMs =
      firstRefused === undefined ? 0 : (backAt ?? lastRefused?.at ?? firstRefused.at) - firstRefused.at;
    const subscribers = [...this.#subscribers].map(([name, { deliveries, resets }]) =>
      countSubscriber(name, deliveries, resets, acknowledgedNs),
    );
    return {
      attempted: this.attempts.length,
      acknowledged: acknowledged.length,
      refused: this.attempts.length - acknowledged.length,
      refusedSpanMs,
      longestRefusalMs,
      subscribers,
    };
  }
}

function countSubscriber(
  name: string,
  deliveries: readonly Delivery[],
  resets: number,
  acknowledged: ReadonlySet<number>,
): SubscriberCounts {
  const seen = new Set<number>();
  const positions = new Set<string>();
  let duplicated = 0;
  let outOfOrder = 0;
  let silentGaps = 0;
  let highest = 0;
  let previous: Delivery | undefined;
  for (const delivery of deliveries) {
    const position = `${delivery.epoch}/${delivery.seq}`;
    if (seen.has(delivery.n) || positions.has(position)) duplicated++;
    if (delivery.n < highest) outOfOrder++;
    if (
      previous !== undefined &&
      !delivery.reset &&
      (delivery.epoch !== previous.epoch || delivery.seq !== previous.seq + 1)
    ) {
      silentGaps++;
    }
    seen.add(delivery.n);
    positions.add(position);
    highest = Math.max(highest, delivery.n);
    previous = delivery;
  }
  // A lost publish was announced when the first delivery after it (in publish order) came with a reset.
  const sorted = [...deliveries].sort((a, b) => a.n - b.n);
  let lost = 0;
  let lostSilently = 0;
  for (const n of acknowledged) {
    if (seen.has(n)) continue;
    lost++;
    const next = sorted.find((delivery) => delivery.n > n);
    if (next === undefined || !next.reset) lostSilently++;
  }
  let deliveredUnacknowledged = 0;
  for (const n of seen) if (!acknowledged.has(n)) deliveredUnacknowledged++;
  return {
    name,
    delivered: seen.size,
    lost,
    lostSilently,
    duplicated,
    outOfOrder,
    silentGaps,
    resets,
    deliveredUnacknowledged,
  };
}

/**
 * Publishes `{n}` over HTTP at a steady rate (one at a time, `intervalMs` apart, to each URL in turn) and
 * records every answer in the ledger, until `stop()`.
 */
export class SteadyPublisher {
  readonly #urls: readonly string[];
  readonly #channel: string;
  readonly #intervalMs: number;
  readonly #ledger: DeliveryLedger;
  readonly #token: string;
  #running = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(options: {
    urls: readonly string[];
    channel: string;
    intervalMs: number;
    ledger: DeliveryLedger;
    token?: string;
  }) {
    this.#urls = options.urls;
    this.#channel = options.channel;
    this.#intervalMs = options.intervalMs;
    this.#ledger = options.ledger;
    this.#token = options.token ?? 'secret';
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async #run(): Promise<void> {
    const started = Date.now();
    for (let n = this.#ledger.attempts.length + 1; this.#running; n++) {
      const url = this.#urls[(n - 1) % this.#urls.length]!;
      this.#ledger.attempts.push(await this.#publish(url, n));
      const next = started + n * this.#intervalMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
  }

  async #publish(url: string, n: number): Promise<PublishAttempt> {
    try {
      const response = await fetch(`${url}/api/channels/${this.#channel}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ n }),
        signal: AbortSignal.timeout(5000),
      });
      const body = (await response.json()) as { epoch?: string; seq?: number };
      return {
        n,
        url,
        status: response.status,
        ...(body.epoch !== undefined && { epoch: body.epoch }),
        ...(body.seq !== undefined && { seq: body.seq }),
        at: Date.now(),
      };
    } catch {
      return { n, url, status: 0, at: Date.now() };
    }
  }
}
