// Test helpers for the admin API: a strict reader of the Prometheus text exposition format (0.0.4),
// so tests check that /metrics is what a Prometheus server would accept, not just that names appear.
//
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Metric family name -> type from its `# TYPE` line. */
  types: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = new RegExp(`^(${LABEL_NAME})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"(,|$)`);

function parseValue(text: string, line: number): number {
  // Prometheus reads values with Go's strconv.ParseFloat: Inf and NaN in any case (prom-client writes "Nan").
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`line ${line}: bad value "${text}"`);
  return value;
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`line ${line}: bad labels "${text}"`);
    const [whole, name, raw] = m as unknown as [string, string, string];
    if (name in labels) throw new Error(`line ${line}: label ${name} repeated`);
    labels[name] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
  }
  return labels;
}

/** Family a sample belongs to: histogram/summary samples carry _bucket, _sum, _count suffixes. */
export function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const type = types.get(base);
  return type === 'histogram' || type === 'summary' ? base : undefined;
}

/** Parses the whole text or throws naming the first bad line. */
export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const typeLine = new RegExp(`^# TYPE (${NAME}) (\\S+)$`).exec(raw);
      if (typeLine) {
        const [, name, type] = typeLine as unknown as [string, string, string];
        if (!TYPES.has(type)) throw new Error(`line ${line}: unknown type "${type}"`);
        if (types.has(name)) throw new Error(`line ${line}: second TYPE for ${name}`);
        types.set(name, type);
        return;
      }
      if (raw.startsWith('# HELP ') && new RegExp(`^# HELP ${NAME}( |$)`).test(raw)) return;
      if (raw.startsWith('# TYPE') || raw.startsWith('# HELP')) throw new Error(`line ${line}: bad "${raw}"`);
      return; // a plain comment
    }
    const m = SAMPLE.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: "${raw}"`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    if (familyOf(name, types) === undefined) throw new Error(`line ${line}: ${name} has no TYPE line before it`);
    samples.push({ name, labels: parseLabels(labelText ?? '', line), value: parseValue(valueText, line) });
  });
  return { types, samples };
}

/** The value of the one sample `name` whose labels include `labels`; undefined when none; throws if several. */
export function sampleValue(exp: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exp.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
