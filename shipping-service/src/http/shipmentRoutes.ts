import Router from '@koa/router';
import { type Credentials, HttpProblem, conflict, notFound, readJsonBody, requireBearer, unprocessable } from '@shop/common';
import type { Shipping } from '../db/shippingStore.ts';
import { shipmentView } from './shipmentView.ts';

export interface ShipmentRoutesDeps {
  readonly shipping: Shipping;
  /** API_TOKEN and API_CLIENTS (open when neither is set). */
  readonly apiToken: Credentials | string | undefined;
  readonly now: () => Date;
}

/** `GET /shipments/:orderId`, `POST /shipments/:orderId/dispatch` (downloads: downloadRoutes.ts). */
export function createShipmentRouter(deps: ShipmentRoutesDeps): Router {
  const router = new Router();
  const auth = requireBearer(deps.apiToken);

  router.get('/shipments/:orderId', auth, async (ctx) => {
    const state = await deps.shipping.load(ctx.params['orderId'] ?? '');
    if (!state.order && !state.paid) throw notFound(`Shipping knows nothing of order ${ctx.params['orderId']}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = shipmentView(ctx.params['orderId'] ?? '', state);
  });

  router.post('/shipments/:orderId/dispatch', auth, async (ctx) => {
    const orderId = ctx.params['orderId'] ?? '';
    const { carrier, trackingNumber } = parseDispatch(hasBody(ctx.get('Content-Length'), ctx.get('Transfer-Encoding')) ? await readJsonBody(ctx, 4096) : {});
    const d = await deps.shipping.handle({ type: 'Dispatch', orderId, carrier, trackingNumber, at: deps.now().toISOString() });
    if (!d.ok) {
      switch (d.reason) {
        case 'not-found': throw notFound(`Shipping knows no order ${orderId}`);
        case 'not-scheduled': throw conflict(`Order ${orderId} has no shipment to dispatch: it is not paid yet, or has nothing physical to send`);
        case 'already-dispatched': throw conflict(`The shipment of order ${orderId} was already dispatched`);
        case 'cancelled': throw conflict(`The shipment of order ${orderId} was cancelled`);
        default: throw new HttpProblem(500, 'Internal server error');
      }
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = shipmentView(orderId, await deps.shipping.load(orderId));
  });

  return router;
}

function hasBody(contentLength: string, transferEncoding: string): boolean {
  return (contentLength !== '' && contentLength !== '0') || transferEncoding !== '';
}

function parseDispatch(body: unknown): { carrier: string | null; trackingNumber: string | null } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unprocessable('The body must be a JSON object', { errors: [{ pointer: '', detail: 'must be an object' }] });
  const b = body as Record<string, unknown>;
  const errors: { pointer: string; detail: string }[] = [];
  const text = (key: string, pattern: RegExp, detail: string): string | null => {
    const v = b[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || !pattern.test(v)) { errors.push({ pointer: `/${key}`, detail }); return null; }
    return v;
  };
  const carrier = text('carrier', /^[^\p{Cc}]{1,80}$/u, 'must be a carrier name of 1 to 80 characters');
  const trackingNumber = text('trackingNumber', /^[A-Za-z0-9-]{4,40}$/, 'must be 4 to 40 letters, digits or dashes');
  if (errors.length > 0) throw unprocessable('The dispatch is not valid; see errors', { errors });
  return { carrier, trackingNumber };
}
