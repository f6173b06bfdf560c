import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Hops of a forwarding header looked at, from the right: enough for any real chain of proxies. */
const MAX_HOPS = 32;

/**
 * Who a request comes from, for per-address limits and logs. Without trusted proxies it is the TCP
 * peer. From a peer listed in `trustProxy` (addresses or CIDRs, or `loopback`), the forwarding header
 * is read: `X-Forwarded-For`, or `Forwarded` (RFC 7239 `for=`) when there is no `X-Forwarded-For`.
 * The chain is walked from the right (the hop the trusted proxy itself added) past every trusted
 * address; the first one that is not trusted is the client. Whatever a client writes into the header
 * itself sits to the left of that, so a forged entry is never believed; from an untrusted peer the
 * headers are ignored altogether.
 *
 * @example
 * const addresses = new ClientAddresses(['127.0.0.1', '10.0.0.0/8']);
 * addresses.of(request); // "203.0.113.9" for X-Forwarded-For: "6.6.6.6, 203.0.113.9, 10.0.0.4" via 127.0.0.1
 */
export class ClientAddresses {
  readonly #trusted: BlockList;
  readonly #any: boolean;

  /** Throws on an entry that is neither an address, a CIDR nor `loopback` (a startup error naming it). */
  constructor(trustProxy: readonly string[]) {
    this.#trusted = new BlockList();
    this.#any = trustProxy.length > 0;
    for (const entry of trustProxy) {
      if (!addTrusted(this.#trusted, entry.trim())) {
        throw new Error(
          `trust-proxy entry "${entry.slice(0, 100)}" is not an IP address, a CIDR (10.0.0.0/8) or "loopback"`,
        );
      }
    }
  }

  /** The client's address: the TCP peer's, or, from a trusted proxy, the one it forwarded for. */
  of(request: IncomingMessage): string {
    const peer = bareAddress(request.socket.remoteAddress ?? '') ?? 'unknown';
    if (!this.#any || !this.#isTrusted(peer)) return peer;
    const hops = forwardedChain(request);
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = bareAddress(hops[i]!);
      // A hop that is not an address (`unknown`, an obfuscated name, garbage): the trusted proxy to
      // its right is as far as anyone can tell.
      if (hop === undefined) return client;
      client = hop;
      if (!this.#isTrusted(hop)) return hop;
    }
    return client;
  }

  #isTrusted(address: string): boolean {
    return this.#trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
}

/** True for what `ClientAddresses` accepts as a trusted proxy: an IP address, a CIDR or `loopback`. */
export function isTrustedProxyEntry(entry: string): boolean {
  return addTrusted(new BlockList(), entry.trim());
}

/**
 * The key one client's things are counted under: its address, except that IPv6 addresses are grouped
 * by their /64 — one customer's network, where a host picks any of 2^64 addresses at will
 * (`::ffff:1.2.3.4` counts as `1.2.3.4`).
 *
 * @example
 * addressGroup('2001:db8:1:2::a'); // "2001:db8:1:2::/64"
 */
export function addressGroup(address: string): string {
  const bare = bareAddress(address);
  if (bare === undefined || isIP(bare) !== 6) return bare ?? address;
  const groups = ipv6Groups(bare);
  if (!groups) return bare;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

function addTrusted(list: BlockList, entry: string): boolean {
  if (entry === 'loopback') {
    list.addSubnet('127.0.0.0', 8, 'ipv4');
    list.addAddress('::1', 'ipv6');
    return true;
  }
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) {
    list.addAddress(address, type);
    return true;
  }
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (!(bits >= 0 && bits <= (family === 6 ? 128 : 32))) return false;
  list.addSubnet(address, bits, type);
  return true;
}

/** The hops of the request's forwarding header, left (the first client) to right (the last proxy). */
function forwardedChain(request: IncomingMessage): string[] {
  const xff = request.headers['x-forwarded-for'];
  if (typeof xff === 'string') return lastHops(xff).map((hop) => hop.trim());
  const forwarded = request.headers.forwarded;
  if (typeof forwarded !== 'string') return [];
  return lastHops(forwarded).map(forwardedFor);
}

/** The last `MAX_HOPS` comma-separated entries, without splitting a header of any length into an array. */
function lastHops(header: string): string[] {
  const hops: string[] = [];
  let end = header.length;
  while (hops.length < MAX_HOPS) {
    const comma = header.lastIndexOf(',', end - 1);
    hops.unshift(header.slice(comma + 1, end));
    if (comma < 0) break;
    end = comma;
  }
  return hops;
}

/** The `for=` of one RFC 7239 element (`for=192.0.2.60;proto=http`, `for="[2001:db8::1]:4711"`). */
function forwardedFor(element: string): string {
  for (const pair of element.split(';')) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim().toLowerCase() !== 'for') continue;
    return pair
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return '';
}

/**
 * An address as found in a socket or a forwarding header, without brackets, port or zone, IPv4-mapped
 * IPv6 as IPv4; undefined when it is not an IP address.
 */
function bareAddress(text: string): string | undefined {
  let address = text.trim();
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) return undefined;
    address = address.slice(1, close);
  } else if (isIP(address) === 0 && /^[\d.]+:\d+$/.test(address)) {
    address = address.slice(0, address.indexOf(':')); // IPv4 with a port
  }
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  if (isIP(address) === 0) return undefined;
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return lower;
}

/** The eight 16-bit groups of a valid IPv6 address (compressed, or with an IPv4 tail). */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  let tail: [number, number] | undefined;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (isIP(last) === 4) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const [left = '', right] = text.split('::');
  const head = parse(left);
  const rest = right === undefined ? [] : parse(right);
  const groups =
    right === undefined ? head : [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  if (groups.length !== 8) return undefined;
  if (tail) groups.splice(6, 2, ...tail);
  return groups;
}
