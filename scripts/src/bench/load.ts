import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly seconds?: number;
  /** Fixed number of requests instead of a duration. */
  readonly amount?: number;
  readonly connections?: number;
  readonly pipelining?: number;
  /** Paths requested in turn by each connection (e.g. distinct archive pages). */
  readonly paths?: readonly string[];
  /** Every response must have this status, or the measurement is refused. */
  readonly expectStatus: number;
}

export interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  /** Exact response times from autocannon's per-response event (its histogram rounds to whole ms). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

/** Runs autocannon once against a loopback URL and refuses a run with errors or unexpected statuses. */
export async function load(o: LoadOptions): Promise<LoadResult> {
  const times: number[] = [];
  const instance = autocannon({
    url: o.url,
    method: o.method ?? 'GET',
    headers: o.headers,
    body: o.body,
    connections: o.connections ?? 10,
    pipelining: o.pipelining ?? 1,
    ...(o.amount !== undefined ? { amount: o.amount } : { duration: o.seconds ?? 3 }),
    timeout: 30,
    ...(o.paths ? { requests: o.paths.map((path) => ({ path })) } : {}),
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => { times.push(ms); });
  const r = await instance;
  const statuses = Object.entries(r.statusCodeStats).filter(([code]) => Number(code) !== o.expectStatus);
  if (r.errors > 0 || r.timeouts > 0 || statuses.length > 0 || times.length === 0) {
    throw new Error(`load on ${o.url} was not clean: ${r.errors} errors, ${r.timeouts} timeouts, unexpected statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  }
  times.sort((a, b) => a - b);
  return {
    rps: times.length / r.duration,
    requests: times.length,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    meanMs: times.reduce((s, t) => s + t, 0) / times.length,
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Measures A and B alternately (A, B, A, B, ...) so that machine noise lands on both sides,
 * and returns the median of each side.
 */
export async function sideBySide(rounds: number, a: (round: number) => Promise<number>, b: (round: number) => Promise<number>): Promise<{ a: number; b: number; as: number[]; bs: number[] }> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await a(i));
    bs.push(await b(i));
  }
  return { a: median(as), b: median(bs), as, bs };
}
