import type { LivedashError } from '@livedash/protocol';
import { expiredError } from './access-control.js';
import { msUntilExpiry, type Principal } from './authenticator.js';

/** setTimeout holds at most 2^31-1 ms; longer lifetimes are waited out in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The credentials of one long-lived connection (WebSocket, SSE): who it is now, and a timer that
 * fires `onExpire` when a token runs out unless a fresh one replaced it first.
 *
 * @example
 * const lifetime = new PrincipalLifetime(principal, (error) => closeWith(error));
 * lifetime.replace(newPrincipal); // after {"action":"auth"}
 * lifetime.dispose();             // on close
 */
export class PrincipalLifetime {
  #principal: Principal;
  #timer: NodeJS.Timeout | undefined;
  readonly #onExpire: (error: LivedashError) => void;

  constructor(principal: Principal, onExpire: (error: LivedashError) => void) {
    this.#principal = principal;
    this.#onExpire = onExpire;
    this.#arm();
  }

  get principal(): Principal {
    return this.#principal;
  }

  replace(principal: Principal): void {
    this.#principal = principal;
    this.#arm();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.dispose();
    const remaining = msUntilExpiry(this.#principal);
    if (remaining === undefined) return;
    // Always through a timer, even when already due, so `onExpire` never runs inside a constructor or `replace`.
    this.#timer = setTimeout(() => this.#check(), Math.min(Math.max(0, remaining), MAX_TIMER_MS));
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const remaining = msUntilExpiry(this.#principal);
    if (remaining !== undefined && remaining <= 0) this.#onExpire(expiredError());
    else this.#arm();
  }
}
