import { describe, expect, it } from 'vitest';
import { parseExposition } from '../../../src/sources/scrape/exposition.js';

describe('parseExposition: the Prometheus text format', () => {
  it('reads families with their type, help and samples, labels as written', () => {
    const body = [
      '# HELP http_requests_total The total number of "HTTP" requests.\\n Escaped.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
    ].join('\n');
    const parsed = parseExposition(body);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.map((family) => [family.name, family.type])).toEqual([
      ['http_requests_total', 'counter'],
      ['msdos_file_access_time_seconds', 'untyped'],
      ['metric_without_timestamp_and_labels', 'untyped'],
      ['something_weird', 'untyped'],
    ]);
    const [requests, msdos, , weird] = parsed.value;
    expect(requests?.help).toBe('The total number of "HTTP" requests.\n Escaped.');
    expect(requests?.samples[1]).toEqual({
      name: 'http_requests_total',
      labels: [
        ['method', 'post'],
        ['code', '400'],
      ],
      value: 3,
    });
    expect(msdos?.samples[0]?.labels).toEqual([
      ['path', 'C:\\DIR\\FILE.TXT'],
      ['error', 'Cannot find file:\n"FILE.TXT"'],
    ]);
    expect(weird?.samples[0]?.value).toBe(Number.POSITIVE_INFINITY);
  });

  it('groups a histogram’s _bucket, _sum and _count under its family', () => {
    const body = [
      '# TYPE rpc_seconds histogram',
      'rpc_seconds_bucket{le="0.05"} 24054',
      'rpc_seconds_bucket{le="+Inf"} 144320',
      'rpc_seconds_sum 53423',
      'rpc_seconds_count 144320',
    ].join('\n');
    const parsed = parseExposition(body);
    if (!parsed.ok) throw new Error(parsed.error.reason);
    expect(parsed.value).toHaveLength(1);
    expect(parsed.value[0]?.samples.map((sample) => sample.name)).toEqual([
      'rpc_seconds_bucket',
      'rpc_seconds_bucket',
      'rpc_seconds_sum',
      'rpc_seconds_count',
    ]);
  });
});

describe('parseExposition: OpenMetrics', () => {
  it('reads # UNIT, _total and _created under a counter, exemplars and # EOF', () => {
    const body = [
      '# TYPE jobs counter',
      '# UNIT jobs jobs',
      '# HELP jobs Jobs done.',
      'jobs_total{queue="a"} 17 # {trace_id="oHg5SJYRHA0"} 1 1520879607.789',
      'jobs_created{queue="a"} 1520430000.123',
      '# TYPE build info',
      'build_info{version="1.2"} 1',
      '# EOF',
      '',
    ].join('\n');
    const parsed = parseExposition(body);
    if (!parsed.ok) throw new Error(parsed.error.reason);
    expect(parsed.value.map((family) => [family.name, family.type, family.samples.length])).toEqual([
      ['jobs', 'counter', 2],
      ['build', 'info', 1],
    ]);
    expect(parsed.value[0]?.samples[0]?.value).toBe(17);
  });
});

describe('parseExposition: malformed bodies fail with the line and the reason', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['no value', 'up\n', 1, /no value/],
    ['a value that is no number', 'a 1\nup one\n', 2, /invalid value "one"/],
    ['an unterminated label value', 'up{job="x} 1\n', 1, /unterminated/],
    ['an invalid escape', 'up{job="\\x"} 1\n', 1, /invalid escape/],
    ['a label given twice', 'up{a="1",a="2"} 1\n', 1, /given twice/],
    ['a bad label name', 'up{1a="1"} 1\n', 1, /invalid label name/],
    ['a bad metric name', '1up 1\n', 1, /invalid metric name/],
    ['a second # TYPE', '# TYPE a gauge\n# TYPE a counter\n', 2, /second # TYPE/],
    ['an unknown type', '# TYPE a thing\n', 1, /unknown metric type/],
    ['text after # EOF', 'a 1\n# EOF\nb 2\n', 3, /after "# EOF"/],
    ['text after the timestamp', 'a 1 2 3\n', 1, /unexpected text/],
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>\n', 1, /invalid metric name/],
  ];
  for (const [what, body, line, reason] of cases) {
    it(`refuses ${what}`, () => {
      const parsed = parseExposition(body);
      expect(parsed.ok).toBe(false);
      if (parsed.ok) return;
      expect(parsed.error.line).toBe(line);
      expect(parsed.error.reason).toMatch(reason);
    });
  }

  it('refuses a body with more samples than allowed, instead of building an endless message', () => {
    const body = Array.from({ length: 11 }, (_, index) => `m${index} 1`).join('\n');
    const parsed = parseExposition(body, 10);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toEqual({ line: 11, reason: 'more than 10 samples' });
  });

  it('parses names such as __proto__ as plain metrics', () => {
    const parsed = parseExposition('__proto__ 1\nconstructor{a="b"} 2\n');
    expect(parsed.ok && parsed.value.map((family) => family.name)).toEqual(['__proto__', 'constructor']);
  });
});
