import { createHmac, randomBytes } from 'node:crypto';

/**
 * A new random epoch: 16 base64url characters (96 bits), inside `EPOCH_PATTERN`, so it never collides
 * with a previous life of the same channel and fits resume tokens without escaping.
 */
export function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * An epoch source for one broker lifetime: each channel's epoch looks random and differs from every
 * other channel's, but asking again for the same channel gives the same epoch. So an empty channel
 * that was dropped (nothing published, nobody subscribed) and is created again keeps its epoch, and a
 * client that subscribed to it before the first publish still resumes without a false "history lost";
 * a new broker (a restarted server) gives every channel a new epoch.
 *
 * @example
 * const epochs = new EpochSource();
 * epochs.of('alerts') === epochs.of('alerts'); // true
 */
export class EpochSource {
  readonly #secret: Buffer | string;

  /**
   * `secret` makes the epochs reproducible: every holder of the same secret derives the same epoch for a
   * channel (the Redis broker uses the Redis server's run id, so all nodes agree without storing a key).
   */
  constructor(secret: Buffer | string = randomBytes(32)) {
    this.#secret = secret;
  }

  of(channel: string): string {
    return createHmac('sha256', this.#secret).update(channel).digest('base64url').slice(0, 16);
  }
}
