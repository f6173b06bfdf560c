import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../auth/bind-policy.js';

/**
 * Which names a request's `Host` may carry: the defence against DNS rebinding. A web page on any
 * domain can make that domain resolve to 127.0.0.1 (or a private address) after the page loaded; the
 * browser then talks to livedash *same-origin*, so neither `Origin` nor CORS stops it — but the browser
 * still sends the attacker's name in `Host`. So:
 *
 * - a server listening on a loopback address accepts `localhost`, `*.localhost` (RFC 6761: browsers
 *   resolve them to loopback themselves, no DNS server can answer for them), any IP address (a
 *   rebinding page has a name; a browser sends an address in `Host` only when it connected to exactly
 *   that address), the configured `host`, and the entries of `allowedHosts`, with any port;
 * - a server listening on any other address (or a Unix socket, which a browser reaches only through a
 *   proxy) checks only when `allowedHosts` is given, against the same list.
 *
 * `allowedHosts` entries: an exact name (`dash.example.com`), `.example.com` (that name and every name
 * under it), `*.example.com` (only the names under it), an IP address, or `*` / `all` (no check).
 * Names compare case-insensitively, a trailing dot ignored. While checking, a missing, repeated or
 * malformed `Host` is refused (400) and an unlisted name gets 403 `host_not_allowed`.
 *
 * @example
 * const hosts = new HostPolicy(['dash.example.com'], '127.0.0.1');
 * hosts.check(request); // undefined, or { status: 403, message: 'host "evil.example" is not allowed…' }
 */
export class HostPolicy {
  readonly #exact = new Set<string>();
  /** `.example.com` → `example.com` itself is allowed too; `*.example.com` → only names under it. */
  readonly #suffixes: Array<{ suffix: string; withBase: boolean }> = [];
  readonly #any: boolean;
  readonly #listed: boolean;
  #checking: boolean;

  /** Throws on an entry that is not a host name pattern (a startup error, with the bad entry named). */
  constructor(allowedHosts: readonly string[], configuredHost: string) {
    let any = false;
    for (const entry of allowedHosts) {
      const pattern = parseAllowedHost(entry);
      if (pattern === undefined) throw new Error(`allowed host "${entry}" is not ${ALLOWED_HOST_FORMS}`);
      if (pattern.kind === 'any') any = true;
      else if (pattern.kind === 'exact') this.#exact.add(pattern.name);
      else this.#suffixes.push({ suffix: `.${pattern.name}`, withBase: pattern.kind === 'domain' });
    }
    const configured = normalizeName(configuredHost);
    if (configured !== undefined) this.#exact.add(configured);
    this.#any = any;
    this.#listed = allowedHosts.length > 0;
    this.#checking = this.#decide(configuredHost);
  }

  /** Whether requests are checked at all (depends on the address listened on; see the class). */
  get checking(): boolean {
    return this.#checking;
  }

  /**
   * The server listens (again) on `address` (an IP address, or undefined for a Unix socket or pipe):
   * decides whether `Host` is checked.
   */
  listeningOn(address: string | undefined): void {
    this.#checking = this.#decide(address);
  }

  /** Why `request` is refused for its `Host` (400 or 403, with a reason), or undefined when it may go on. */
  check(request: IncomingMessage): { status: 400 | 403; message: string } | undefined {
    if (!this.#checking) return undefined;
    // Node keeps the first of several Host lines; RFC 9112 §3.2 asks for 400 instead.
    if (hostLines(request.rawHeaders) > 1)
      return { status: 400, message: 'the request has more than one Host header' };
    // An absolute-form target's authority has replaced the header (RFC 9112 §3.2.2, request-target.ts).
    const value = request.headers.host;
    if (value === undefined || value === '')
      return { status: 400, message: 'the request has no Host header' };
    const host = parseHostHeader(value);
    if (host === undefined)
      return { status: 400, message: `the Host header ${JSON.stringify(value.slice(0, 100))} is malformed` };
    if (this.#allows(host)) return undefined;
    return {
      status: 403,
      message:
        `host "${host.slice(0, 100)}" is not allowed: a server reached by this name lists it in ` +
        '--allowed-hosts (allowedHosts), see docs/security.md',
    };
  }

  #allows(host: string): boolean {
    if (this.#any || isIP(host) !== 0) return true;
    if (host === 'localhost' || host.endsWith('.localhost')) return true;
    if (this.#exact.has(host)) return true;
    for (const { suffix, withBase } of this.#suffixes) {
      if (host.endsWith(suffix) || (withBase && host === suffix.slice(1))) return true;
    }
    return false;
  }

  #decide(address: string | undefined): boolean {
    if (this.#any) return false;
    if (this.#listed) return true;
    return address !== undefined && isLoopbackHost(address);
  }
}

/** The forms an `allowedHosts` entry takes, as error messages name them. */
export const ALLOWED_HOST_FORMS =
  'a host name such as "dash.example.com", ".example.com" (it and every name under it), "*.example.com" (the names under it), an IP address, or "*"';

type AllowedHost =
  | { kind: 'any' }
  | { kind: 'exact'; name: string }
  /** `.example.com`: the name and the names under it. */
  | { kind: 'domain'; name: string }
  /** `*.example.com`: only the names under it. */
  | { kind: 'subdomains'; name: string };

function parseAllowedHost(entry: string): AllowedHost | undefined {
  if (entry === '*' || entry.toLowerCase() === 'all') return { kind: 'any' };
  if (entry.startsWith('*.') || entry.startsWith('.')) {
    const name = normalizeName(entry.slice(entry.startsWith('.') ? 1 : 2));
    if (name === undefined || isIP(name) !== 0) return undefined;
    return { kind: entry.startsWith('.') ? 'domain' : 'subdomains', name };
  }
  const bare = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
  if (isIP(bare) !== 0) return { kind: 'exact', name: bare.toLowerCase() };
  const name = normalizeName(entry);
  return name === undefined ? undefined : { kind: 'exact', name };
}

/** True for an entry `allowedHosts` accepts (the option's schema). */
export function isAllowedHostEntry(entry: string): boolean {
  return parseAllowedHost(entry) !== undefined;
}

/** A DNS label: letters, digits, `-` and `_` (service names such as docker's), 1–63 of them. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A host name in lower case without its trailing dot, or undefined when it is not one (IP addresses pass as names of digits). */
function normalizeName(text: string): string | undefined {
  const lower = text.toLowerCase();
  const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (name.length === 0 || name.length > 253) return undefined;
  for (const label of name.split('.')) if (!LABEL.test(label)) return undefined;
  return name;
}

/**
 * The host of a `Host` header value (`name[:port]`, `IPv4[:port]` or `[IPv6][:port]`), in lower case
 * without a trailing dot and without brackets; undefined when the value is not one (a bare IPv6
 * address, a bad or empty port, characters a host name cannot hold).
 */
export function parseHostHeader(value: string): string | undefined {
  let host: string;
  let port: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    host = value.slice(1, close);
    if (isIP(host) !== 6) return undefined;
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      port = rest.slice(1);
    }
    host = host.toLowerCase();
  } else {
    const colon = value.indexOf(':');
    if (colon !== -1) port = value.slice(colon + 1);
    const name = normalizeName(colon === -1 ? value : value.slice(0, colon));
    if (name === undefined) return undefined;
    host = name;
  }
  if (port !== undefined && !/^[0-9]{1,5}$/.test(port)) return undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return undefined;
  return host;
}

function hostLines(raw: readonly string[]): number {
  let lines = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') lines++;
  }
  return lines;
}
