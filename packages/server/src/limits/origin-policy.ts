/**
 * Which browser origins may open WebSocket and SSE connections (and, for CORS, call the HTTP API).
 * Browsers attach `Origin` to cross-site requests, so checking it stops another site from using a
 * visitor's browser (and its network position) to read live data — cross-site WebSocket hijacking.
 *
 * - no `Origin` header: allowed (not a browser; such clients can send any header anyway);
 * - `Origin` naming the server's own host (the `Host` header): allowed (the built-in dashboard);
 * - otherwise allowed only when listed in `allowedOrigins` (exact `scheme://host[:port]`, or `*`).
 *
 * @example
 * const origins = new OriginPolicy(['https://dash.example.com']);
 * origins.allows(req.headers.origin, req.headers.host); // false for https://evil.example
 */
export class OriginPolicy {
  readonly #allowed: ReadonlySet<string>;
  readonly #any: boolean;

  /** Throws on an entry that is not an origin (a startup error, with the bad entry named). */
  constructor(allowedOrigins: readonly string[]) {
    const normalized = new Set<string>();
    for (const entry of allowedOrigins) {
      if (entry === '*' || entry === 'null') {
        normalized.add(entry);
        continue;
      }
      const origin = normalizeOrigin(entry);
      if (origin === undefined)
        throw new Error(`allowed origin "${entry}" is not of the form scheme://host[:port]`);
      normalized.add(origin);
    }
    this.#allowed = normalized;
    this.#any = normalized.has('*');
  }

  /** True when CORS headers should be sent at all (some origin is configured). */
  get corsEnabled(): boolean {
    return this.#allowed.size > 0;
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.#any) return true;
    if (origin === 'null') return this.#allowed.has('null');
    const normalized = normalizeOrigin(origin);
    if (normalized === undefined) return false;
    if (host !== undefined && new URL(normalized).host === host.toLowerCase()) return true;
    return this.#allowed.has(normalized);
  }

  /** Whether a cross-origin API response may carry `Access-Control-Allow-Origin: origin`. */
  allowsCors(origin: string | undefined): boolean {
    if (origin === undefined || !this.corsEnabled) return false;
    if (this.#any) return true;
    const normalized = normalizeOrigin(origin);
    return normalized !== undefined && this.#allowed.has(normalized);
  }
}

/** `scheme://host[:port]` in lower case, default ports dropped; undefined for anything with a path, query or credentials. */
function normalizeOrigin(text: string): string | undefined {
  if (text.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== ''))
    return undefined;
  return url.origin;
}
