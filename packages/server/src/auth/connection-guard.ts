import { ErrorCodes, type LivedashError, type Result } from '@livedash/protocol';
import { FrameRateLimiter, type FrameRateOptions } from '../limits/frame-rate-limiter.js';
import type { AccessControl } from './access-control.js';
import { canPublish, canSubscribe, type Principal, refusal } from './authenticator.js';
import { PrincipalLifetime } from './principal-lifetime.js';

/** What to do with one incoming WebSocket frame, as far as the rate limit goes. */
export type FrameAdmission =
  | { kind: 'process' }
  | { kind: 'ignore'; error?: LivedashError }
  | { kind: 'close'; error: LivedashError };

/**
 * Access control for one WebSocket connection, at the command level: the frame rate limit, who the
 * client is (replaced by `{"action":"auth"}`), what it may subscribe to and publish, and the close
 * when its token runs out. Transports call it; it never touches the socket itself.
 *
 * @example
 * const guard = new ConnectionGuard(access, principal, rate, (error) => closeWith(error));
 * const denied = guard.subscribeRefusal('team.b'); // a LivedashError to send as $error, or undefined
 */
export class ConnectionGuard {
  readonly #access: AccessControl;
  readonly #limiter: FrameRateLimiter;
  readonly #lifetime: PrincipalLifetime;

  constructor(
    access: AccessControl,
    principal: Principal,
    rate: FrameRateOptions,
    onExpire: (error: LivedashError) => void,
  ) {
    this.#access = access;
    this.#limiter = new FrameRateLimiter(rate);
    this.#lifetime = new PrincipalLifetime(principal, (error) => {
      access.metrics.authRefused('token_expired');
      onExpire(error);
    });
  }

  get principal(): Principal {
    return this.#lifetime.principal;
  }

  /** Counts the frame against the rate limit. */
  admitFrame(): FrameAdmission {
    const verdict = this.#limiter.admit();
    if (verdict.kind === 'accept') return { kind: 'process' };
    this.#access.metrics.limitHit('frame_rate');
    if (verdict.kind === 'refuse') return { kind: 'ignore', error: verdict.error };
    if (verdict.kind === 'drop') return { kind: 'ignore' };
    return verdict;
  }

  subscribeRefusal(channel: string): LivedashError | undefined {
    return this.#refuse(canSubscribe(this.principal, channel), 'subscribe to', channel);
  }

  publishRefusal(channel: string): LivedashError | undefined {
    return this.#refuse(canPublish(this.principal, channel), 'publish to', channel);
  }

  /**
   * Checks a token sent in `{"action":"auth"}` and, when valid, makes it the connection's identity
   * (restarting the expiry timer). Returns the channels among `subscribed` the new identity may no
   * longer read, for the transport to drop. A bad token leaves the old identity in place; the caller
   * closes the connection with the error's close code.
   */
  async reauthenticate(
    token: string,
    subscribed: Iterable<string>,
  ): Promise<Result<string[], LivedashError>> {
    const result = await this.#access.authenticator.authenticate(token);
    if (!result.ok) {
      this.#access.metrics.authRefused(
        result.error.code === ErrorCodes.TOKEN_EXPIRED ? 'token_expired' : 'unauthorized',
      );
      return result;
    }
    this.#lifetime.replace(result.value);
    return { ok: true, value: [...subscribed].filter((channel) => !canSubscribe(result.value, channel)) };
  }

  dispose(): void {
    this.#lifetime.dispose();
  }

  #refuse(
    allowed: boolean,
    action: 'subscribe to' | 'publish to',
    channel: string,
  ): LivedashError | undefined {
    if (allowed) return undefined;
    const error = refusal(this.principal, action, channel);
    this.#access.metrics.authRefused(error.code === ErrorCodes.FORBIDDEN ? 'forbidden' : 'unauthorized');
    return error;
  }
}
