import type { IncomingMessage } from 'node:http';
import type { Result } from '@livedash/protocol';

/**
 * An HTTP request-target (RFC 9112 §3.2), in each of its four forms:
 * - `origin`: `/path?query`, what every client sends to an origin server;
 * - `absolute`: `http://host:port/path?query`, what clients send to proxies (and servers must accept);
 * - `authority`: `host:port`, only for CONNECT;
 * - `asterisk`: `*`, only for `OPTIONS *`.
 *
 * `path` and `query` are kept as sent (percent-encoded, checked to be well formed), so routing sees
 * the same bytes it would have seen in origin-form.
 */
export type RequestTarget =
  | { form: 'origin'; path: string; query: string }
  | {
      form: 'absolute';
      scheme: 'http' | 'https';
      /** `host[:port]` as sent, for use as the request's `Host` (RFC 9112 §3.2.2). */
      authority: string;
      host: string;
      port: number | undefined;
      path: string;
      query: string;
    }
  | { form: 'authority'; authority: string; host: string; port: number }
  | { form: 'asterisk' };

/** Longest request-target accepted by default, bytes; the header block limit bounds it anyway. */
export const MAX_TARGET_BYTES = 16 * 1024;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** reg-name and IPv4 (RFC 3986 §3.2.2): unreserved, sub-delims and percent-encoded bytes. */
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
/** What an IP literal may hold between its brackets: IPv6 hex, dots, colons, a zone or IPvFuture. */
const IP_LITERAL = /^\[[0-9A-Za-z:._~%!$&'()*+,;=-]{2,60}\]$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses a request-target defensively: never throws, whatever the bytes; returns the target or why it
 * is not one (answered 400 with that reason). Path and query accept every visible ASCII character
 * except `#` (browsers send `|`, `^`, `[`, `]` unescaped), but a `%` must start a `%XX` triple, and
 * nothing outside visible ASCII may appear (it must be percent-encoded).
 *
 * @example
 * parseRequestTarget('/ws?token=abc');      // { ok: true, value: { form: 'origin', path: '/ws', query: 'token=abc' } }
 * parseRequestTarget('http://a:99999/ws');  // { ok: false, error: 'port 99999 is out of range (1-65535)' }
 */
export function parseRequestTarget(
  target: string | undefined,
  maxBytes = MAX_TARGET_BYTES,
): Result<RequestTarget, string> {
  if (target === undefined || target === '') return fail('the request target is empty');
  if (target.length > maxBytes) return fail(`the request target is over ${maxBytes} bytes`);
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) {
      return fail(`the request target has a byte that is not visible ASCII (0x${code.toString(16)}) at ${i}`);
    }
  }
  if (target === '*') return { ok: true, value: { form: 'asterisk' } };
  if (target.startsWith('/')) {
    const parts = pathAndQuery(target);
    return parts.ok ? { ok: true, value: { form: 'origin', ...parts.value } } : parts;
  }
  const scheme = SCHEME.exec(target);
  if (scheme) return absoluteForm(target, scheme[1]!.toLowerCase(), scheme[0].length);
  return authorityForm(target);
}

function absoluteForm(target: string, scheme: string, start: number): Result<RequestTarget, string> {
  if (scheme !== 'http' && scheme !== 'https')
    return fail(`the scheme "${scheme.slice(0, 16)}" is not served`);
  let end = target.length;
  for (const delimiter of ['/', '?']) {
    const at = target.indexOf(delimiter, start);
    if (at !== -1 && at < end) end = at;
  }
  const authority = parseAuthority(target.slice(start, end));
  if (!authority.ok) return authority;
  const rest = target.slice(end);
  const parts = pathAndQuery(rest.startsWith('/') ? rest : `/${rest}`);
  if (!parts.ok) return parts;
  const { host, port, text } = authority.value;
  return { ok: true, value: { form: 'absolute', scheme, authority: text, host, port, ...parts.value } };
}

function authorityForm(target: string): Result<RequestTarget, string> {
  const authority = parseAuthority(target);
  if (!authority.ok) return authority;
  const { host, port, text } = authority.value;
  if (port === undefined)
    return fail('the request target is neither a path, an absolute URL, host:port nor *');
  return { ok: true, value: { form: 'authority', authority: text, host, port } };
}

/** `host[:port]`; credentials (`user@`) are refused (RFC 9110 §4.2.4). */
function parseAuthority(
  text: string,
): Result<{ host: string; port: number | undefined; text: string }, string> {
  if (text.includes('@')) return fail('credentials in the request target are not accepted');
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return fail('an IPv6 host in the request target has no closing "]"');
    host = text.slice(0, close + 1);
    if (!IP_LITERAL.test(host)) return fail('the IPv6 host in the request target is malformed');
    const after = text.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return fail('unexpected characters after the IPv6 host');
      portText = after.slice(1);
    }
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    if (colon !== -1) portText = text.slice(colon + 1);
    if (host === '') return fail('the request target names no host');
    if (!REG_NAME.test(host) || !wellFormedPercent(host))
      return fail('the host in the request target is malformed');
  }
  let port: number | undefined;
  // RFC 3986 allows an empty port (`host:`): it means the scheme's default.
  if (portText !== undefined && portText !== '') {
    if (!PORT.test(portText)) {
      return /^[0-9]+$/.test(portText)
        ? fail(`port ${portText.slice(0, 16)}${portText.length > 16 ? '…' : ''} is out of range (1-65535)`)
        : fail('the port in the request target is not a number');
    }
    port = Number(portText);
    if (port < 1 || port > 65_535) return fail(`port ${portText} is out of range (1-65535)`);
  }
  return { ok: true, value: { host: host.toLowerCase(), port, text } };
}

function pathAndQuery(text: string): Result<{ path: string; query: string }, string> {
  if (text.includes('#')) return fail('a fragment (#) is not allowed in a request target');
  if (!wellFormedPercent(text)) return fail('malformed percent-encoding in the request target');
  const question = text.indexOf('?');
  if (question === -1) return { ok: true, value: { path: text, query: '' } };
  return { ok: true, value: { path: text.slice(0, question), query: text.slice(question + 1) } };
}

/** Every `%` starts a `%XX` triple of two hex digits. */
function wellFormedPercent(text: string): boolean {
  for (let at = text.indexOf('%'); at !== -1; at = text.indexOf('%', at + 1)) {
    if (!isHex(text.charCodeAt(at + 1)) || !isHex(text.charCodeAt(at + 2))) return false;
  }
  return true;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

function fail(reason: string): { ok: false; error: string } {
  return { ok: false, error: reason };
}

/** The target as origin-form (`/path?query`), for routing; undefined for the forms that have no path. */
export function originForm(target: RequestTarget): string | undefined {
  if (target.form !== 'origin' && target.form !== 'absolute') return undefined;
  return target.query === '' ? target.path : `${target.path}?${target.query}`;
}

/**
 * The request's target for routing: parsed (the reason when malformed), an absolute-form target
 * rewritten in place to origin-form with its authority as `Host` (RFC 9112 §3.2.2: the target's
 * authority wins over the header). `*` is only for OPTIONS, `host:port` only for CONNECT.
 */
export function routeOf(
  request: IncomingMessage,
  maxBytes = MAX_TARGET_BYTES,
): Result<{ path: string; query: string }, string> {
  const parsed = parseRequestTarget(request.url, maxBytes);
  if (!parsed.ok) return parsed;
  const target = parsed.value;
  if (target.form === 'asterisk') {
    return request.method === 'OPTIONS'
      ? { ok: true, value: { path: '*', query: '' } }
      : fail('the request target * is only for OPTIONS');
  }
  if (target.form === 'authority') return fail('a host:port request target is only for CONNECT');
  if (target.form === 'absolute') {
    request.url = originForm(target) ?? '/';
    request.headers.host = target.authority;
  }
  return { ok: true, value: { path: target.path, query: target.query } };
}
