import Router from '@koa/router';
import { HttpProblem, notFound } from '@shop/common';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { buildMime } from '../mail/mimeMessage.ts';
import { missingParts } from '../domain/policy.ts';
import { formatShard } from '../domain/shard.ts';
import type { OutboxEmail } from '../db/notificationStore.ts';
import type { TransportStatus } from '../mail/outboxSender.ts';
import type { NotificationService } from '../notificationService.ts';
import type { NotificationView, OutboxStates } from '../notificationView.ts';
import { templateStatusOf } from './templateRoutes.ts';

const views = new Eta({ views: new URL('./views', import.meta.url).pathname, autoEscape: true, cache: true });

/** Builds what GET /status shows on SQLite: per feed, where we are, what went wrong, what is parked. */
export function statusOf(service: NotificationService) {
  return {
    service: 'notification-service',
    // Which orders this instance acts on; entries of other shards only move the read positions.
    shard: {
      id: formatShard(service.config.shard), index: service.config.shard.index, count: service.config.shard.count,
      otherShardEntriesSkipped: service.handler.otherShardEntries,
    },
    feeds: service.consumers.map((c) => {
      const s = c.status();
      return {
        name: s.name, feedUrl: s.feedUrl, position: s.position, lastEntryId: s.lastAtomId, newestSeen: s.newestSeen, behind: s.behind,
        lastSuccessAt: s.lastSuccessAt, lastError: s.lastError, lastErrorAt: s.lastErrorAt, failures: s.failures, retryAt: s.retryAt,
        parked: s.parked, parkedTotal: s.parkedTotal, totals: s.totals,
      };
    }),
    waitingOrders: service.store.waiting().map((o) => ({ orderId: o.orderId, missing: missingParts(o), readySince: o.readySince ?? null, overdue: o.overdue })),
    outbox: outboxStatus(service),
    templates: templateStatusOf(service),
  };
}

/** The outbox by state, the emails waiting for their next try, and the dead letters with the command that resends each. */
function outboxStatus(service: NotificationService) {
  const { store } = service;
  return outboxStatusOf({ ...store.counts(), ...store.outboxStates() }, service.sender.transportStatus(), store.retrying(50), store.dead(200));
}

/** The outbox section of /status, from its parts (read from either engine). */
export function outboxStatusOf(counts: { total: number; unsent: number } & OutboxStates, transport: TransportStatus, retrying: readonly OutboxEmail[], dead: readonly OutboxEmail[]) {
  return {
    ...counts,
    // Whether the mail server can be reached, and when it is tried again if not.
    transport,
    retrying: retrying.map((e) => ({ id: e.id, orderId: e.orderId, kind: e.kind, attempts: e.attempts, lastError: e.lastError, nextAttemptAt: e.nextAttemptAt })),
    deadLetters: dead.map((e) => ({
      id: e.id, orderId: e.orderId, kind: e.kind, to: e.toAddress, subject: e.subject, attempts: e.attempts, lastError: e.lastError, deadAt: e.deadAt,
      resend: `npm run cli -w notification-service -- resend ${e.id}`,
    })),
  };
}

/** GET /status and the email viewer, as JSON for programs and HTML for a browser. */
export function statusRoutes(service: NotificationView, config: { mailFrom: string }): Router {
  const router = new Router();
  router.get('/', (ctx) => { ctx.redirect('/status'); });
  router.get('/status', async (ctx) => {
    const status = await service.status();
    ctx.set('Cache-Control', 'no-store');
    if (wantsHtml(ctx)) html(ctx, views.render('status.eta', { title: statusTitle(status), ...status }));
    else ctx.body = status;
  });
  router.get('/emails', async (ctx) => {
    const emails = (await service.emails()).map(({ raw: _r, html: _h, text: _t, templateData: _d, ...e }) => e);
    ctx.set('Cache-Control', 'no-store');
    if (wantsHtml(ctx)) html(ctx, views.render('emails.eta', { title: 'Emails', emails }));
    else ctx.body = { emails: emails.map((e) => ({ ...e, href: `/emails/${e.id}` })) };
  });
  router.get('/emails/:id', async (ctx) => { html(ctx, (await email(ctx)).html); });
  router.get('/emails/:id/text', async (ctx) => {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = (await email(ctx)).text;
  });
  router.get('/emails/:id/raw', async (ctx) => {
    const e = await email(ctx);
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = e.raw ?? await buildMime(e, config.mailFrom, service.config.shopTimeZone);
  });
  return router;

  async function email(ctx: Context) {
    const id = Number(ctx.params['id']);
    const found = Number.isSafeInteger(id) ? await service.email(id) : undefined;
    if (!found) throw notFound(`There is no email ${ctx.params['id']}`);
    return found;
  }
}

/** The page's title: which shard (SQLite) or which instance (PostgreSQL) answers. */
function statusTitle(status: Record<string, unknown>): string {
  const shard = status['shard'] as { id: string } | undefined;
  return shard ? `Notification service, shard ${shard.id}` : `Notification service, instance ${String(status['instance'])}`;
}

export function wantsHtml(ctx: Context): boolean {
  const choice = ctx.accepts('application/json', 'text/html');
  if (choice === false) throw new HttpProblem(406, 'Not acceptable', 'This resource is available as application/json or text/html');
  return choice === 'text/html';
}

function html(ctx: Context, body: string): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}
