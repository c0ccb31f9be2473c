import Router from '@koa/router';
import type { Context } from 'koa';
import { Eta } from 'eta';
import { HttpProblem, notFound } from '@shop/common';
import type { DownloadRow, Shipping } from '../db/shippingStore.ts';
import type { CivilDate } from '../domain/calendar.ts';
import { downloadExpired, lastDownloadDay } from '../domain/downloadExpiry.ts';
import type { DownloadLinks } from '../downloads/downloadLinks.ts';
import { longDate } from '../feed/toFeedEntry.ts';

const views = new Eta({ views: new URL('./views', import.meta.url).pathname, autoEscape: true, cache: true });

export interface DownloadRoutesDeps {
  readonly shipping: Shipping;
  readonly links: DownloadLinks;
  readonly shopTimeZone: string;
  readonly now: () => Date;
}

/** Why a download is refused: the page a person sees, the problem a client gets. */
type Refusal =
  | { readonly kind: 'invalid'; readonly status: 403 | 404 }
  | { readonly kind: 'expired'; readonly orderId: string; readonly sku: string; readonly name: string; readonly lastDay: CivilDate }
  | { readonly kind: 'cancelled'; readonly orderId: string };

/**
 * `GET /downloads/:orderId/:sku?expires=&sig=`, the signed links (downloads/downloadLinks.ts), and
 * `GET /downloads/:token`, the links given before, honoured until they expire. Open to anyone
 * with the link: the link is the customer's credential. A refusal is a page for a person (a
 * browser asks for text/html) and problem+json for anything else.
 */
export function createDownloadRouter(deps: DownloadRoutesDeps): Router {
  const router = new Router();

  router.get('/downloads/:orderId/:sku', async (ctx) => {
    const check = deps.links.verify({ orderId: ctx.params['orderId'] ?? '', sku: ctx.params['sku'] ?? '', expires: ctx.query['expires'], sig: ctx.query['sig'] }, deps.now());
    if (!check.ok) {
      if (check.reason === 'invalid') return refuse(ctx, { kind: 'invalid', status: 403 });
      const name = (await deps.shipping.delivered(check.orderId, check.sku))?.name ?? check.sku;
      return refuse(ctx, { kind: 'expired', orderId: check.orderId, sku: check.sku, name, lastDay: check.lastDay });
    }
    // Only a link we signed gets this far: a missing record is ours to explain, not an alteration.
    const row = await deps.shipping.delivered(check.orderId, check.sku);
    if (!row) return refuse(ctx, { kind: 'invalid', status: 404 });
    await serve(ctx, row);
  });

  router.get('/downloads/:token', async (ctx) => {
    const row = await deps.shipping.download(ctx.params['token'] ?? '');
    if (!row) return refuse(ctx, { kind: 'invalid', status: 403 });
    // Its email promised the calendar day of its expiry: honoured to the end of that day, as signed links are.
    const lastDay = lastDownloadDay(row.expiresAt, deps.shopTimeZone);
    if (downloadExpired(lastDay, deps.now(), deps.shopTimeZone)) return refuse(ctx, { kind: 'expired', orderId: row.orderId, sku: row.sku, name: row.name, lastDay });
    await serve(ctx, row);
  });

  return router;

  async function serve(ctx: Context, row: DownloadRow): Promise<void> {
    if ((await deps.shipping.load(row.orderId)).cancelled) return refuse(ctx, { kind: 'cancelled', orderId: row.orderId });
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('Content-Disposition', `attachment; filename="${row.sku.replace(/[^\w.-]/g, '_')}.txt"`);
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${row.name} (${row.sku})\nOrder ${row.orderId}\nThis stands in for the file a real shop would deliver.\n`;
  }

  function refuse(ctx: Context, r: Refusal): void {
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('X-Robots-Tag', 'noindex');
    const problem = toProblem(r);
    // A browser following the link from an email gets a page; curl (*/*) and API clients get problem+json.
    if (ctx.accepts('application/problem+json', 'application/json', 'text/html') !== 'text/html') throw problem;
    ctx.status = problem.status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = views.render('downloadProblem.eta', { ...r, title: TITLES[r.kind], lastDayText: r.kind === 'expired' ? longDate(r.lastDay) : null, timeZone: deps.shopTimeZone });
  }

  function toProblem(r: Refusal): HttpProblem {
    switch (r.kind) {
      case 'invalid':
        return r.status === 404
          ? notFound('This download link is not valid: there is no such download')
          : new HttpProblem(403, 'Forbidden', 'This download link is not valid: it was not made by this shop, or it was changed', { reason: 'invalid' });
      case 'expired':
        return new HttpProblem(403, 'Forbidden', `This download link has expired: it worked until the end of ${longDate(r.lastDay)} (${deps.shopTimeZone}); ask for a new link quoting order ${r.orderId}`, {
          reason: 'expired', orderId: r.orderId, sku: r.sku, validThrough: r.lastDay,
        });
      case 'cancelled':
        return new HttpProblem(410, 'Gone', `This download is no longer available: order ${r.orderId} was cancelled`, { reason: 'cancelled', orderId: r.orderId });
      default:
        return assertNever(r);
    }
  }
}

const TITLES: Record<Refusal['kind'], string> = {
  invalid: 'This download link is not valid',
  expired: 'This download link has expired',
  cancelled: 'This download is no longer available',
};

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
