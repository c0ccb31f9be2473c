import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { call } from './http.ts';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A Prometheus text exposition (format 0.0.4), read strictly enough for tests. */
export interface ParsedMetrics {
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** The value of the one sample with this name whose labels include `labels` (undefined: none). */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;

/** Parses the text format; throws on a line that is neither a comment nor a well-formed sample. */
export function parsePrometheusText(text: string): ParsedMetrics {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, name, type] = line.split(' ').slice(1);
      if (!name || !type || types.has(name)) throw new Error(`bad or repeated TYPE line: ${line}`);
      types.set(name, type);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const l = LABEL.exec(m[2]);
        if (!l) throw new Error(`bad labels in: ${line}`);
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    // As Prometheus reads them (Go's ParseFloat): NaN and Inf in any case (prom-client writes `Nan`).
    const raw = m[3]!;
    const value = /^nan$/i.test(raw) ? NaN : /^[+-]?inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return {
    types,
    samples,
    value(name, want = {}) {
      const found = samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(want)}`);
      return found[0]?.value;
    },
  };
}

/**
 * GETs `/metrics` and parses it, after checking it is the Prometheus text format. When Debian's
 * python3-prometheus-client is installed its parser (not the library that wrote the text) must
 * accept it too; without it that check is left out.
 */
export async function scrapeMetrics(baseUrl: string, headers: Record<string, string> = {}): Promise<ParsedMetrics & { readonly text: string }> {
  const r = await call('GET', `${baseUrl}/metrics`, undefined, headers);
  expect(r.status, r.body).to.equal(200);
  expect(r.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  const problem = pythonParserProblem(r.body);
  expect(problem, 'python3-prometheus-client refused the exposition').to.equal(undefined);
  return { ...parsePrometheusText(r.body), text: r.body };
}

let pythonParser: boolean | undefined;

function pythonParserProblem(text: string): string | undefined {
  pythonParser ??= spawnSync('python3', ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' }).status === 0;
  if (!pythonParser) return undefined;
  const r = spawnSync('python3', ['-c', 'import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\nlist(f(sys.stdin.read()))'], { input: text, encoding: 'utf8' });
  return r.status === 0 ? undefined : r.stderr;
}
