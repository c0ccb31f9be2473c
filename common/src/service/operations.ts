import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { ConsumerProgress } from '../consumer/consumerOperations.ts';
import { registerConsumerMetrics } from '../metrics/consumerMetrics.ts';
import { type PublishedFeed, registerFeedMetrics } from '../metrics/feedMetrics.ts';
import { ServiceMetrics } from '../metrics/serviceMetrics.ts';
import type { ServiceHealth } from './serviceHealth.ts';

/** What an operator's tooling asks a service: `/metrics`, `/healthz`, `/readyz`. */
export interface Operations {
  readonly metrics: ServiceMetrics;
  readonly health: ServiceHealth;
  /** Mount it on the app: `app.use(ops.router.routes())`. */
  readonly router: Router;
}

export interface OperationsOptions {
  readonly health: ServiceHealth;
  /** The feeds the service publishes (their long polls are answered when it shuts down). */
  readonly feeds?: readonly PublishedFeed[];
  /** The feed subscriptions it reads (FeedConsumer or PgFeedConsumer). */
  readonly consumers?: readonly { progress(): ConsumerProgress }[];
  /** Guards /metrics (operations data: the operators' login, see ServiceAccess.operator); /healthz and /readyz stay open. */
  readonly guard?: Middleware;
}

/**
 * One app's metrics (its own registry), health and the routes that expose them. Pass
 * `ops.metrics.observeRequest` to createBaseApp's `onRequest`, and wrap the feed's fast path
 * in `ops.metrics.observeFastPath` so its 304s are counted too.
 */
export function createOperations(o: OperationsOptions): Operations {
  const metrics = new ServiceMetrics();
  const { health } = o;
  if (o.feeds && o.feeds.length > 0) {
    registerFeedMetrics(metrics, o.feeds);
    for (const f of o.feeds) health.whenClosing(() => f.publisher.stopWaiting());
  }
  if (o.consumers && o.consumers.length > 0) registerConsumerMetrics(metrics, o.consumers);

  const router = new Router();
  router.get('/metrics', o.guard ?? ((_ctx, next) => next()), async (ctx) => {
    const { contentType, body } = await metrics.exposition();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = contentType;
    ctx.body = body;
  });
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'alive' };
  });
  router.get('/readyz', (ctx) => {
    const r = health.readiness();
    ctx.set('Cache-Control', 'no-store');
    if (r.ready) {
      ctx.body = { status: 'ready' };
      return;
    }
    // Answered here rather than thrown: a probe seeing 503 during shutdown is not an error to log.
    ctx.status = 503;
    ctx.type = 'application/problem+json';
    ctx.body = JSON.stringify({ type: 'about:blank', title: 'Not ready', status: 503, detail: `Not ready: ${r.reasons.join('; ')}`, reasons: r.reasons, instance: ctx.path });
  });
  return { metrics, health, router };
}
