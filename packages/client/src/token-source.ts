/**
 * A token for the server: a fixed string, or a function returning a fresh one (called before the
 * first connect, before expiry, and after the server said the token expired).
 */
export type TokenProvider = string | (() => string | Promise<string>);

/**
 * A JWT's `exp` in ms since the Unix epoch, read without verifying (the server verifies); undefined
 * when the token is not a JWT or has no numeric `exp`.
 */
export function tokenExpiresAt(token: string): number | undefined {
  try {
    const payload = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const { exp } = JSON.parse(atob(payload + '='.repeat((4 - (payload.length % 4)) % 4))) as {
      exp?: unknown;
    };
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `url` with `token` as its `token` query parameter (EventSource and browser WebSocket cannot send headers). */
export function withToken(url: string, token: string | undefined): string {
  return token === undefined
    ? url
    : `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/** The `Authorization` header for `token`, none without one. */
export function bearer(token: string | undefined): { authorization?: string } {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/**
 * Holds the client's current token and keeps it fresh: with a provider function, a new token is
 * fetched `refreshMarginMs` (at most half the lifetime) before the current one's `exp` and handed to
 * `onRefreshed`, so an open connection re-authenticates without dropping its subscriptions.
 *
 * @example
 * const tokens = new TokenSource(() => fetch('/token').then((r) => r.text()), 30_000, (t) => transport.authenticate?.(t));
 * await tokens.ensureFresh();
 * new WebSocket(withToken(url, tokens.current));
 */
export class TokenSource {
  readonly #provider: TokenProvider | undefined;
  readonly #marginMs: number;
  readonly #onRefreshed: (token: string) => void;
  #current: string | undefined;
  #inflight: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    provider: TokenProvider | undefined,
    marginMs = 30_000,
    onRefreshed: (token: string) => void = () => {},
  ) {
    this.#provider = provider;
    this.#marginMs = marginMs;
    this.#onRefreshed = onRefreshed;
    if (typeof provider === 'string') this.#current = provider;
  }

  get current(): string | undefined {
    return this.#current;
  }

  /** True when a connect should wait for `ensureFresh()`: a provider function and no token still good. */
  get needsFetch(): boolean {
    if (typeof this.#provider !== 'function' || this.#closed) return false;
    return (
      this.#current === undefined || (tokenExpiresAt(this.#current) ?? Number.POSITIVE_INFINITY) <= Date.now()
    );
  }

  /**
   * Fetches a token when `needsFetch`; concurrent calls share one fetch. Never rejects: a provider that
   * fails leaves the old token (the server then refuses it with a code the client acts on).
   */
  ensureFresh(): Promise<void> {
    return this.needsFetch ? this.#fetch() : Promise.resolve();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #fetch(): Promise<void> {
    const provider = this.#provider as () => string | Promise<string>;
    this.#inflight ??= (async () => {
      try {
        const token = await provider();
        if (typeof token !== 'string' || token === '' || this.#closed) return;
        const refreshed = this.#current !== undefined;
        this.#current = token;
        this.#schedule(token);
        if (refreshed) this.#onRefreshed(token);
      } catch {
        // Reported through the connection: a missing or stale token is refused by the server with a code.
      } finally {
        this.#inflight = undefined;
      }
    })();
    return this.#inflight;
  }

  #schedule(token: string): void {
    clearTimeout(this.#timer);
    const expiresAt = tokenExpiresAt(token);
    if (expiresAt === undefined) return;
    const lifetime = expiresAt - Date.now();
    // setTimeout holds at most 2^31-1 ms; a refresh that early is harmless for a token that long-lived.
    const wait = Math.min(lifetime - Math.min(this.#marginMs, lifetime / 2), 2 ** 31 - 1);
    this.#timer = setTimeout(() => void this.#fetch(), Math.max(0, wait));
  }
}
