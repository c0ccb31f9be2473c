import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestObservation } from '../http/baseApp.ts';
import { principalOf } from '../http/credentials.ts';

/** Request durations, from a revalidation (well under a millisecond) to a long poll (up to a minute). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

let processRegistry: Registry | undefined;

/**
 * The process's own metrics (CPU, memory, event loop lag, GC, handles), collected once per
 * process. They describe the process, not an app, and each collection starts an event-loop
 * delay monitor and a GC observer that are never stopped: one per app would pile up in a test
 * process that builds hundreds of apps. Made on the first scrape, so a CLI never starts them.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A text exposition, ready to send. */
export interface Exposition {
  readonly contentType: string;
  readonly body: string;
}

/**
 * One app's metrics, in its own prom-client Registry (several apps may share a process), with
 * the HTTP request metrics every service has. Feeds, subscriptions and the rest register on
 * `registry` and refresh their gauges in `beforeScrape`, so the work they measure pays nothing.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'route' | 'method' | 'status'>;
  readonly #duration: Histogram<'route' | 'method' | 'status'>;
  readonly #listeners: ((r: RequestObservation) => void)[] = [];
  readonly #beforeScrape: (() => void | Promise<void>)[] = [];

  constructor() {
    const labelNames = ['route', 'method', 'status'] as const;
    this.#requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by matched route pattern (unmatched when none), method and status.', labelNames, registers: [this.registry] });
    this.#duration = new Histogram({ name: 'http_request_duration_seconds', help: 'Time from a request reaching the service to its response being decided (long polls included: see route /feed).', labelNames, buckets: DURATION_BUCKETS, registers: [this.registry] });
  }

  /** Records one request; pass it as createBaseApp's `onRequest`. */
  readonly observeRequest = (r: RequestObservation): void => {
    const labels = { route: r.route, method: r.method, status: String(r.status) };
    this.#requests.inc(labels);
    this.#duration.observe(labels, r.seconds);
    for (const listener of this.#listeners) listener(r);
  };

  /**
   * Wraps the feed's fast path (see withFastPath) so that the 304s it answers in front of Koa
   * are counted like every other request, as route `/feed`.
   */
  observeFastPath(fast: (req: IncomingMessage, res: ServerResponse) => boolean): (req: IncomingMessage, res: ServerResponse) => boolean {
    return (req, res) => {
      const started = performance.now();
      if (!fast(req, res)) return false;
      this.observeRequest({ method: req.method ?? 'GET', route: '/feed', status: res.statusCode, seconds: (performance.now() - started) / 1000, principal: principalOf(req) });
      return true;
    };
  }

  /** Also tells `listener` of every request recorded (e.g. to count a feed's 304s). */
  onRequest(listener: (r: RequestObservation) => void): void {
    this.#listeners.push(listener);
  }

  /** Runs `refresh` at the start of every scrape: read state into gauges here, never on the hot path. */
  beforeScrape(refresh: () => void | Promise<void>): void {
    this.#beforeScrape.push(refresh);
  }

  /** The app's metrics and the process's, in the Prometheus text format. */
  async exposition(): Promise<Exposition> {
    for (const refresh of this.#beforeScrape) await refresh();
    const [app, proc] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return { contentType: this.registry.contentType, body: `${app}\n${proc}` };
  }
}

/** Sets a counter to a total kept elsewhere (counters only go up, so do the totals it is given). */
export function setCounter<T extends string>(counter: Counter<T>, labels: Partial<Record<T, string | number>>, total: number): void {
  counter.remove(labels);
  counter.inc(labels, total);
}
