/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests. prom-client
 * writes the format but has no parser, so this one checks what a scraper relies on and
 * throws on the first violation: line syntax, names, label escaping, one TYPE per family
 * declared before its samples, a family's samples together, no duplicate series, and for
 * histograms cumulative buckets whose +Inf bucket equals _count.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  const closed = new Set<string>();
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) return; // a plain comment
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      if (!metricName.test(name)) throw new Error(`bad metric name, ${where}`);
      let family = families.get(name);
      if (family && closed.has(name)) throw new Error(`family ${name} declared again after others, ${where}`);
      if (!family) {
        if (current) closed.add(current.name);
        family = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, family);
        current = family;
      }
      if (kind === 'TYPE') {
        if (!types.has(rest)) throw new Error(`unknown type, ${where}`);
        if (family.samples.length > 0) throw new Error(`TYPE after samples, ${where}`);
        family.type = rest as MetricType;
      } else {
        if (family.help !== undefined) throw new Error(`second HELP, ${where}`);
        family.help = unescapeHelp(rest, where);
      }
      return;
    }
    if (line === '') return; // the format allows empty lines (prom-client puts one between families)
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (!family) throw new Error(`sample without a TYPE before it, ${where}`);
    if (family !== current) throw new Error(`samples of ${family.name} are not together, ${where}`);
    checkSuffix(family, sample, where);
    const key = `${sample.name}{${Object.entries(sample.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (series.has(key)) throw new Error(`duplicate series ${key}`);
    series.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`bad sample name, ${where}`);
  const name = nameMatch[0];
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
      if (!labelMatch || !labelName.test(labelMatch[1]!)) throw new Error(`bad label, ${where}`);
      at += labelMatch[0].length;
      let value = '';
      for (;;) {
        const char = line[at++];
        if (char === undefined) throw new Error(`unterminated label value, ${where}`);
        if (char === '"') break;
        if (char === '\\') {
          const escaped = line[at++];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else throw new Error(`bad escape in label value, ${where}`);
        } else value += char;
      }
      if (labelMatch[1]! in labels) throw new Error(`label ${labelMatch[1]} twice, ${where}`);
      labels[labelMatch[1]!] = value;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`expected , or } in labels, ${where}`);
    }
    at++;
  }
  const rest = line.slice(at);
  const valueMatch = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!valueMatch) throw new Error(`bad value part, ${where}`);
  const text = valueMatch[1]!;
  // Prometheus reads values with Go's ParseFloat, which takes NaN in any case: prom-client
  // writes `Nan` for a gauge with no samples yet (the event-loop lag right after start).
  const nan = /^nan$/i.test(text);
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : nan ? NaN : Number(text);
  if (Number.isNaN(value) && !nan) throw new Error(`bad value ${text}, ${where}`);
  return { name, labels, value };
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(sampleName);
  if (exact) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || family.type === 'summary')) return family;
  }
  return undefined;
}

function checkSuffix(family: Family, sample: Sample, where: string): void {
  if (family.type === 'histogram') {
    if (sample.name === family.name) throw new Error(`histogram sample without suffix, ${where}`);
    if (sample.name.endsWith('_bucket') && sample.labels.le === undefined) throw new Error(`bucket without le, ${where}`);
  }
  if (family.type === 'summary' && sample.name === family.name && sample.labels.quantile === undefined) {
    throw new Error(`summary sample without quantile, ${where}`);
  }
  if ((family.type === 'counter' || family.type === 'gauge') && sample.name !== family.name) throw new Error(`suffix on a ${family.type}, ${where}`);
  if (family.type === 'counter' && !(sample.value >= 0)) throw new Error(`negative counter, ${where}`);
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith('_bucket')) group.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    else if (sample.name.endsWith('_count')) group.count = sample.value;
    else group.sum = sample.value;
  }
  for (const [key, group] of groups) {
    const where = `${family.name}${key}`;
    if (group.count === undefined || group.sum === undefined) throw new Error(`histogram without _count or _sum: ${where}`);
    let previous = { le: -Infinity, value: 0 };
    for (const [le, value] of group.buckets) {
      if (!(le > previous.le)) throw new Error(`buckets out of order: ${where}`);
      if (value < previous.value) throw new Error(`buckets not cumulative: ${where}`);
      previous = { le, value };
    }
    if (previous.le !== Infinity || previous.value !== group.count) throw new Error(`+Inf bucket is not _count: ${where}`);
  }
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.)/g, (_all, char: string) => {
    if (char === 'n') return '\n';
    if (char === '\\') return '\\';
    throw new Error(`bad escape in HELP, ${where}`);
  });
}

/** The sum of a sample's values over series whose labels include `labels`. */
export function total(families: Map<string, Family>, sampleName: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== sampleName) continue;
      if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) sum += sample.value;
    }
  }
  return sum;
}
