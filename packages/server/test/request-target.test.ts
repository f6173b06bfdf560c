import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { originForm, parseRequestTarget } from '../src/transports/request-target.js';

// RFC 9112 §3.2: the four forms of a request-target, and everything a peer can put in one instead.

describe('parseRequestTarget: the four forms', () => {
  test('origin-form keeps path and query as sent', () => {
    expect(parseRequestTarget('/ws?token=a%20b&x=1')).toEqual({
      ok: true,
      value: { form: 'origin', path: '/ws', query: 'token=a%20b&x=1' },
    });
    expect(parseRequestTarget('/')).toEqual({ ok: true, value: { form: 'origin', path: '/', query: '' } });
    // Browsers send these unescaped in queries; they are not refused.
    expect(parseRequestTarget('/sse?channels=a|b^[c]').ok).toBe(true);
  });

  test('absolute-form gives its authority (the Host to use) and its path', () => {
    const parsed = parseRequestTarget('HTTP://Example.COM:8080/ws?x=1');
    expect(parsed).toEqual({
      ok: true,
      value: {
        form: 'absolute',
        scheme: 'http',
        authority: 'Example.COM:8080',
        host: 'example.com',
        port: 8080,
        path: '/ws',
        query: 'x=1',
      },
    });
    if (parsed.ok) expect(originForm(parsed.value)).toBe('/ws?x=1');
    expect(parseRequestTarget('https://[::1]:443')).toMatchObject({
      ok: true,
      value: { form: 'absolute', host: '[::1]', port: 443, path: '/' },
    });
    expect(parseRequestTarget('http://a?q')).toMatchObject({ ok: true, value: { path: '/', query: 'q' } });
    expect(parseRequestTarget('http://a:/x')).toMatchObject({ ok: true, value: { port: undefined } });
  });

  test('authority-form (CONNECT) needs a port; asterisk-form is *', () => {
    expect(parseRequestTarget('example.com:443')).toEqual({
      ok: true,
      value: { form: 'authority', authority: 'example.com:443', host: 'example.com', port: 443 },
    });
    expect(parseRequestTarget('*')).toEqual({ ok: true, value: { form: 'asterisk' } });
    expect(parseRequestTarget('example.com').ok).toBe(false);
  });
});

describe('parseRequestTarget: what is refused, with a reason', () => {
  const refused: Array<[string, RegExp]> = [
    ['http://a:99999/ws', /port 99999 is out of range/],
    ['http://a:0/ws', /port 0 is out of range/],
    [`http://a:${'9'.repeat(400)}/ws`, /out of range/],
    ['http://a:8o/ws', /port .* not a number/],
    ['a:99999', /out of range/],
    ['http://[::1/ws', /no closing "]"/],
    ['http://[zz:\u00ff]/', /not visible ASCII/],
    ['http:///ws', /names no host/],
    ['http://user:pw@a/ws', /credentials/],
    ['ftp://a/ws', /scheme "ftp" is not served/],
    ['/%zz', /malformed percent-encoding/],
    ['/ws?token=%', /malformed percent-encoding/],
    ['/ws?a=%4', /malformed percent-encoding/],
    ['/ws#frag', /fragment/],
    ['/w s', /not visible ASCII/],
    ['/\u0000', /not visible ASCII/],
    ['/caf\u00e9', /not visible ASCII/],
    ['', /empty/],
    [`/${'a'.repeat(20_000)}`, /over 16384 bytes/],
    ['ws', /neither a path/],
  ];
  test.each(refused)('%s', (target, reason) => {
    const parsed = parseRequestTarget(target);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });

  test('undefined (no target at all) is refused, not thrown on', () => {
    expect(parseRequestTarget(undefined)).toEqual({ ok: false, error: 'the request target is empty' });
  });
});

describe('parseRequestTarget: properties', () => {
  test('never throws, whatever the text; a refusal always says why', () => {
    const target = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .tuple(
          fc.constantFrom('http://', 'https://', 'HTTP://', 'ws://', 'x+y://', ''),
          fc.string({ maxLength: 30 }),
          fc.oneof(
            fc.constant(''),
            fc.bigInt({ min: -1n, max: 10n ** 30n }).map((port) => `:${port}`),
          ),
          fc.string({ maxLength: 60 }),
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(target, (text) => {
        const parsed = parseRequestTarget(text);
        if (!parsed.ok) expect(parsed.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  test('every origin-form target built from legal bytes is accepted as sent', () => {
    const segment = fc.stringMatching(/^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@|^]|%[0-9A-Fa-f]{2}){0,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 5 }), fc.option(segment), (segments, query) => {
        const path = `/${segments.join('/')}`;
        const text = query === null ? path : `${path}?${query}`;
        expect(parseRequestTarget(text)).toEqual({
          ok: true,
          value: { form: 'origin', path, query: query ?? '' },
        });
      }),
      { numRuns: 500 },
    );
  });

  test('every port from 1 to 65535 is accepted in absolute-form, nothing above', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65_535 }),
        fc.integer({ min: 65_536, max: 2 ** 31 }),
        (good, bad) => {
          expect(parseRequestTarget(`http://h:${good}/`)).toMatchObject({ ok: true, value: { port: good } });
          expect(parseRequestTarget(`http://h:${bad}/`).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
