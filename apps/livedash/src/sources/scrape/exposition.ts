import type { Result } from '@livedash/protocol';

/**
 * A strict parser for the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, the two
 * answers a `/metrics` endpoint gives. Written here because the parsers on npm read only the older
 * format (no `# EOF`, `_created`, `# UNIT`, exemplars), throw on bad input, and are no longer kept up.
 *
 * Strict where a wrong number would otherwise reach a dashboard: a sample line that does not parse,
 * a bad label, a duplicated `# TYPE` or text after `# EOF` fails the whole scrape with its line number.
 * Bounded: a caller passes at most `maxSamples`; a body with more fails rather than growing a message.
 *
 * @example
 * const parsed = parseExposition('# TYPE up gauge\nup 1\n');
 * // { ok: true, value: [{ name: 'up', type: 'gauge', help: '', samples: [{ name: 'up', labels: [], value: 1 }] }] }
 */

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'untyped';

/** One line of numbers: `http_requests_total{code="200"} 1027`. Labels keep the order written. */
export interface Sample {
  name: string;
  labels: Array<[name: string, value: string]>;
  /** May be NaN or ±Infinity, as the format allows. */
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

export interface ExpositionError {
  /** 1-based line of the body where parsing stopped (0 for a problem with the whole body). */
  line: number;
  reason: string;
}

/** Samples one scrape may hold; node_exporter writes a few thousand, so this leaves a wide margin. */
export const MAX_SAMPLES = 50_000;
/** A longer line is no metric; refusing it bounds the work on one line. */
const MAX_LINE_CHARS = 64 * 1024;

const METRIC_NAME = /^[A-Za-z_:][A-Za-z0-9_:]*$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TYPES: Record<string, MetricType> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  untyped: 'untyped',
  unknown: 'untyped',
};
/** Suffixes by which a sample belongs to a family declared without them (`# TYPE h histogram` → `h_bucket`). */
const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['_count', '_sum', '_created'],
  info: ['_info'],
};

class ParseFailure extends Error {}

/**
 * Parses an exposition body into its metric families, in the order they appear. Samples with no
 * `# TYPE` line become `untyped` families of their own.
 */
export function parseExposition(
  body: string,
  maxSamples: number = MAX_SAMPLES,
): Result<MetricFamily[], ExpositionError> {
  const families = new Map<string, MetricFamily>();
  const typed = new Set<string>();
  let current: MetricFamily | undefined;
  let sampleCount = 0;
  let ended = false;
  const lines = body.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = (lines[index] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (ended) return failure(lineNumber, 'text after "# EOF"');
    if (line.length > MAX_LINE_CHARS)
      return failure(lineNumber, `line longer than ${MAX_LINE_CHARS} characters`);
    try {
      if (line.startsWith('#')) {
        const directive = readDirective(line);
        if (directive === 'eof') {
          ended = true;
          continue;
        }
        if (directive === undefined) continue;
        let family = families.get(directive.name);
        if (!family) {
          family = { name: directive.name, type: 'untyped', help: '', samples: [] };
          families.set(directive.name, family);
        }
        if (directive.kind === 'type') {
          if (typed.has(directive.name)) throw new ParseFailure(`second # TYPE for ${directive.name}`);
          if (family.samples.length > 0) {
            throw new ParseFailure(`# TYPE for ${directive.name} after its samples`);
          }
          family.type = directive.type;
          typed.add(directive.name);
        } else if (directive.kind === 'help') {
          family.help = directive.help;
        }
        current = family;
        continue;
      }
      const sample = readSample(line);
      if (++sampleCount > maxSamples) return failure(lineNumber, `more than ${maxSamples} samples`);
      let family = current && belongsTo(sample.name, current) ? current : findFamily(families, sample.name);
      if (!family) {
        family = { name: sample.name, type: 'untyped', help: '', samples: [] };
        families.set(sample.name, family);
      }
      family.samples.push(sample);
      current = family;
    } catch (error) {
      if (error instanceof ParseFailure) return failure(lineNumber, error.message);
      throw error;
    }
  }
  return { ok: true, value: [...families.values()] };
}

function failure(line: number, reason: string): { ok: false; error: ExpositionError } {
  return { ok: false, error: { line, reason } };
}

function belongsTo(sampleName: string, family: MetricFamily): boolean {
  if (sampleName === family.name) return true;
  const suffixes = SUFFIXES[family.type] ?? [];
  return suffixes.some((suffix) => sampleName === family.name + suffix);
}

function findFamily(families: Map<string, MetricFamily>, sampleName: string): MetricFamily | undefined {
  const exact = families.get(sampleName);
  if (exact) return exact;
  for (const suffix of ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && belongsTo(sampleName, family)) return family;
  }
  return undefined;
}

type Directive =
  | { kind: 'type'; name: string; type: MetricType }
  | { kind: 'help'; name: string; help: string }
  | { kind: 'unit'; name: string };

/** `# HELP`, `# TYPE`, `# UNIT`, `# EOF`; any other comment is undefined (ignored). */
function readDirective(line: string): Directive | 'eof' | undefined {
  if (line === '# EOF') return 'eof';
  const match = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s(.*))?$/.exec(line);
  if (!match) return undefined;
  const [, keyword, name = '', rest = ''] = match;
  if (!METRIC_NAME.test(name)) throw new ParseFailure(`invalid metric name ${quote(name)}`);
  if (keyword === 'HELP') return { kind: 'help', name, help: unescapeHelp(rest) };
  if (keyword === 'UNIT') return { kind: 'unit', name };
  const type = Object.hasOwn(TYPES, rest.trim()) ? TYPES[rest.trim()] : undefined;
  if (!type) throw new ParseFailure(`unknown metric type ${quote(rest.trim())} for ${name}`);
  return { kind: 'type', name, type };
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n|")/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
}

/** `name{label="value",…} value [timestamp] [# exemplar]` */
function readSample(line: string): Sample {
  const nameEnd = line.search(/[{\s]/);
  const name = nameEnd === -1 ? line : line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) throw new ParseFailure(`invalid metric name ${quote(name)}`);
  let position = name.length;
  let labels: Sample['labels'] = [];
  if (line[position] === '{') {
    const read = readLabels(line, position + 1);
    labels = read.labels;
    position = read.end;
  }
  const rest = line.slice(position);
  // An OpenMetrics exemplar (` # {trace_id="…"} 0.67`) follows the value; it is not a sample.
  const withoutExemplar = rest.replace(/\s+#\s.*$/, '');
  const fields = withoutExemplar.trim().split(/\s+/);
  if (!/^\s/.test(rest) || fields.length === 0 || fields[0] === '') {
    throw new ParseFailure(`no value after ${name}`);
  }
  if (fields.length > 2) throw new ParseFailure(`unexpected text after the value of ${name}`);
  const value = parseValue(fields[0] as string);
  if (value === undefined) throw new ParseFailure(`invalid value ${quote(fields[0] as string)} for ${name}`);
  if (fields[1] !== undefined && !/^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(fields[1])) {
    throw new ParseFailure(`invalid timestamp ${quote(fields[1])} for ${name}`);
  }
  return { name, labels, value };
}

function readLabels(line: string, start: number): { labels: Sample['labels']; end: number } {
  const labels: Sample['labels'] = [];
  const seen = new Set<string>();
  let position = start;
  for (;;) {
    while (line[position] === ' ') position++;
    if (line[position] === '}') return { labels, end: position + 1 };
    const equals = line.indexOf('=', position);
    if (equals === -1) throw new ParseFailure('unterminated label set');
    const name = line.slice(position, equals).trim();
    if (!LABEL_NAME.test(name)) throw new ParseFailure(`invalid label name ${quote(name)}`);
    if (seen.has(name)) throw new ParseFailure(`label ${name} given twice`);
    seen.add(name);
    position = equals + 1;
    while (line[position] === ' ') position++;
    if (line[position] !== '"') throw new ParseFailure(`label ${name} has no quoted value`);
    let value = '';
    position++;
    for (;;) {
      const char = line[position];
      if (char === undefined) throw new ParseFailure(`label ${name} has an unterminated value`);
      if (char === '"') break;
      if (char === '\\') {
        const next = line[position + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new ParseFailure(`label ${name} has an invalid escape \\${next ?? ''}`);
        position += 2;
        continue;
      }
      value += char;
      position++;
    }
    position++;
    labels.push([name, value]);
    while (line[position] === ' ') position++;
    if (line[position] === ',') position++;
    else if (line[position] !== '}') throw new ParseFailure(`expected "," or "}" after label ${name}`);
  }
}

const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseValue(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case '+inf':
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}…` : text);
}
