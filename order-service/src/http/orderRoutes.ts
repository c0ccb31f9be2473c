import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { type Credentials, HttpProblem, conflict, notFound, readJsonBody, requireBearer, unprocessable } from '@shop/common';
import type { Orders } from '../db/orderStore.ts';
import { formatShopDate } from '@shop/common/time';
import type { FulfilmentPart } from '../domain/events.ts';
import type { Order } from '../domain/order.ts';
import { parseOrderRequest } from '../domain/parseOrderRequest.ts';
import { checkDestination } from '../domain/shipToCountries.ts';
import { orderView } from './orderView.ts';

export interface OrderRoutesDeps {
  /** On SQLite concurrent writes share one commit (group commit); each answer waits for it. */
  readonly orders: Orders;
  /** API_TOKEN and API_CLIENTS (open when neither is set). */
  readonly apiToken: Credentials | string | undefined;
  readonly now: () => Date;
  readonly newOrderId: () => string;
  /** SHOP_TIME_ZONE: the calendar of the dates a refused cancellation gives. */
  readonly shopTimeZone: string;
  /** SHIP_TO_COUNTRIES: an order to any other country is refused with 422. */
  readonly shipTo: ReadonlySet<string>;
}

/** `POST /orders`, `GET /orders/:id`, `POST /orders/:id/cancel`. */
export function createOrderRouter(deps: OrderRoutesDeps): Router {
  const router = new Router();
  const auth = requireBearer(deps.apiToken);

  router.post('/orders', auth, async (ctx) => {
    const idempotencyKey = ctx.get('Idempotency-Key') || undefined;
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
      throw new HttpProblem(400, 'Bad request', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const body = await readJsonBody(ctx);
    const parsed = parseOrderRequest(body);
    if (!parsed.ok) throw unprocessable('The order is not valid; see errors', { errors: parsed.errors });
    const refused = checkDestination(parsed.value, deps.shipTo);
    if (refused) throw unprocessable(`${refused.detail[0]!.toUpperCase()}${refused.detail.slice(1)}`, { errors: [refused] });
    const command = { type: 'PlaceOrder' as const, orderId: deps.newOrderId(), at: deps.now().toISOString(), ...parsed.value };
    const idempotency = idempotencyKey ? { key: idempotencyKey, requestHash: createHash('sha256').update(JSON.stringify(parsed.value)).digest('hex') } : undefined;
    const result = await deps.orders.place(command, idempotency);
    if (result.kind === 'key-reused') {
      throw unprocessable('This Idempotency-Key was already used for a different order', { orderId: result.orderId });
    }
    if (result.kind === 'replayed') ctx.set('Idempotent-Replayed', 'true');
    ctx.status = 201;
    ctx.set('Location', `/orders/${result.orderId}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = orderView(result.kind === 'created' ? result.order : await deps.orders.load(result.orderId));
  });

  router.get('/orders/:id', auth, async (ctx) => {
    const order = found(await deps.orders.load(ctx.params['id'] ?? ''), ctx.params['id']);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = orderView(order);
  });

  router.post('/orders/:id/cancel', auth, async (ctx) => {
    const orderId = ctx.params['id'] ?? '';
    let reason: string | null = null;
    if (ctx.get('Content-Length') !== '' && ctx.get('Content-Length') !== '0' || ctx.get('Transfer-Encoding')) {
      const body = await readJsonBody(ctx, 4096);
      const r = (body as { reason?: unknown } | null)?.reason;
      if (r !== undefined && r !== null && (typeof r !== 'string' || r.length > 500)) {
        throw unprocessable('reason must be a string of at most 500 characters', { errors: [{ pointer: '/reason', detail: 'must be a string of at most 500 characters' }] });
      }
      reason = typeof r === 'string' && r.trim() !== '' ? r.trim() : null;
    }
    const at = deps.now().toISOString();
    const decision = await deps.orders.handle({ type: 'CancelOrder', orderId, at, reason });
    if (!decision.ok) {
      switch (decision.reason) {
        case 'not-found': throw notFound(`There is no order ${orderId}`);
        case 'already-cancelled': throw conflict(`Order ${orderId} is already cancelled`, { orderId });
        case 'fulfilled': throw tooLateToCancel(orderId, decision.part, decision.at, deps.shopTimeZone);
        default: throw new HttpProblem(500, 'Internal server error');
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = orderView(await deps.orders.load(orderId));
  });

  return router;
}

/** 409: the goods (the first of them) left; the problem says which and when (the shop's calendar day), for people and machines. */
function tooLateToCancel(orderId: string, part: FulfilmentPart, at: string, shopTimeZone: string): HttpProblem {
  const on = formatShopDate(at, shopTimeZone, 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  return part === 'dispatched'
    ? conflict(`Order ${orderId} was dispatched on ${on}; it can no longer be cancelled`, { orderId, dispatchedAt: at })
    : conflict(`Order ${orderId} can no longer be cancelled: its downloads were delivered on ${on}`, { orderId, downloadsDeliveredAt: at });
}

function found(order: Order, id: string | undefined): Exclude<Order, { status: 'none' }> {
  if (order.status === 'none') throw notFound(`There is no order ${id}`);
  return order;
}
