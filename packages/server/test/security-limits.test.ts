import { CloseCodes, ErrorCodes } from '@livedash/protocol';
import { describe, expect, it } from 'vitest';
import { anonymousBindRefusal, isLoopbackHost } from '../src/auth/bind-policy.js';
import { FrameRateLimiter } from '../src/limits/frame-rate-limiter.js';
import { OriginPolicy } from '../src/limits/origin-policy.js';
import { PerIpCounter } from '../src/limits/per-ip-counter.js';
import { TokenBucket } from '../src/limits/token-bucket.js';

function clock() {
  let now = 0;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('TokenBucket', () => {
  it('allows a burst, then the refill rate, never more than the burst', () => {
    const time = clock();
    const bucket = new TokenBucket({ ratePerSec: 10, burst: 5, now: time.now });
    for (let i = 0; i < 5; i++) expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    time.advance(100);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    time.advance(60_000);
    expect(bucket.available).toBe(5);
  });

  it('does not drain when the clock steps back, and refuses bad options', () => {
    const time = clock();
    const bucket = new TokenBucket({ ratePerSec: 1, burst: 2, now: time.now });
    time.advance(-1000);
    expect(bucket.available).toBe(2);
    expect(() => new TokenBucket({ ratePerSec: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSec: 1, burst: 0.5 })).toThrow(RangeError);
  });
});

describe('FrameRateLimiter', () => {
  it('tells the client once, drops silently, then closes with 4029 if the flood goes on', () => {
    const time = clock();
    const limiter = new FrameRateLimiter({ framesPerSec: 10, burst: 3 }, time.now);
    for (let i = 0; i < 3; i++) expect(limiter.admit().kind).toBe('accept');
    const first = limiter.admit();
    expect(first.kind).toBe('refuse');
    if (first.kind === 'refuse') expect(first.error.code).toBe(ErrorCodes.RATE_LIMITED);
    expect(limiter.admit().kind).toBe('drop');
    expect(limiter.admit().kind).toBe('drop');
    const last = limiter.admit();
    expect(last.kind).toBe('close');
    if (last.kind === 'close') expect(last.error.closeCode).toBe(CloseCodes.RATE_LIMITED);
  });

  it('forgives a client that slows down', () => {
    const time = clock();
    const limiter = new FrameRateLimiter({ framesPerSec: 10, burst: 2 }, time.now);
    limiter.admit();
    limiter.admit();
    expect(limiter.admit().kind).toBe('refuse');
    time.advance(100);
    expect(limiter.admit().kind).toBe('accept');
    expect(limiter.admit().kind).toBe('refuse');
  });
});

describe('PerIpCounter', () => {
  it('refuses past the limit per address and frees on release, once', () => {
    const counter = new PerIpCounter(2);
    const a = counter.acquire('10.0.0.1');
    const b = counter.acquire('::ffff:10.0.0.1');
    expect(a && b).toBeTruthy();
    expect(counter.acquire('10.0.0.1')).toBeUndefined();
    expect(counter.acquire('10.0.0.2')).toBeDefined();
    a?.();
    a?.();
    expect(counter.count('10.0.0.1')).toBe(1);
    b?.();
    expect(counter.count('10.0.0.1')).toBe(0);
    expect(counter.size).toBe(1);
  });
});

describe('OriginPolicy', () => {
  it('allows non-browser and same-origin requests, and only listed foreign origins', () => {
    const policy = new OriginPolicy(['https://dash.example.com', 'http://localhost:5173/']);
    expect(policy.allows(undefined, 'h:1')).toBe(true);
    expect(policy.allows('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(policy.allows('HTTPS://Dash.Example.com:443', 'x')).toBe(true);
    expect(policy.allows('http://localhost:5173', 'x')).toBe(true);
    expect(policy.allows('https://evil.example', '127.0.0.1:8080')).toBe(false);
    expect(policy.allows('https://dash.example.com.evil.example', 'x')).toBe(false);
    expect(policy.allows('null', 'x')).toBe(false);
    expect(policy.allows('javascript:alert(1)', 'x')).toBe(false);
    expect(policy.allows('https://dash.example.com/path', 'x')).toBe(false);
  });

  it('enables CORS only for configured origins', () => {
    expect(new OriginPolicy([]).allowsCors('http://a.example')).toBe(false);
    const policy = new OriginPolicy(['http://a.example']);
    expect(policy.allowsCors('http://a.example')).toBe(true);
    expect(policy.allowsCors('http://b.example')).toBe(false);
    expect(new OriginPolicy(['*']).allows('http://b.example', 'x')).toBe(true);
    expect(() => new OriginPolicy(['dash.example.com'])).toThrow(/scheme:\/\/host/);
  });
});

describe('anonymous bind policy', () => {
  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses a public bind without auth unless anonymous access is allowed, and says why', () => {
    expect(anonymousBindRefusal('0.0.0.0', false, false)).toMatch(/--allow-anonymous/);
    expect(anonymousBindRefusal('0.0.0.0', true, false)).toBeUndefined();
    expect(anonymousBindRefusal('0.0.0.0', false, true)).toBeUndefined();
    expect(anonymousBindRefusal('127.0.0.1', false, false)).toBeUndefined();
  });
});
