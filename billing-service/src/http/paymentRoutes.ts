import { createHash } from 'node:crypto';
import Router from '@koa/router';
import { type Credentials, HttpProblem, conflict, notFound, readJsonBody, requireBearer, unprocessable } from '@shop/common';
import type { Billing } from '../db/billingStore.ts';
import type { BillingState } from '../domain/evolve.ts';
import { formatAmount, minorDigits, parseAmount } from '@shop/common/money';
import { parsePaymentRequest } from '../domain/parsePaymentRequest.ts';
import { invoiceView, paymentView } from './billingViews.ts';

export interface PaymentRoutesDeps {
  readonly billing: Billing;
  /** API_TOKEN and API_CLIENTS (open when neither is set). */
  readonly apiToken: Credentials | string | undefined;
  readonly now: () => Date;
}

/** How long a payer should wait before retrying a payment for an order billing has not read yet. */
const RETRY_AFTER_SECONDS = 2;

/** `POST /payments`, `GET /payments/:id`, `GET /invoices/:orderId`. */
export function createPaymentRouter(deps: PaymentRoutesDeps): Router {
  const router = new Router();
  const auth = requireBearer(deps.apiToken);

  router.post('/payments', auth, async (ctx) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) throw new HttpProblem(400, 'Bad request', 'POST /payments needs an Idempotency-Key header, so that a retry never charges twice');
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new HttpProblem(400, 'Bad request', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    const parsed = parsePaymentRequest(await readJsonBody(ctx, 8 * 1024));
    if (!parsed.ok) throw unprocessable('The payment is not valid; see errors', { errors: parsed.errors });
    const body = parsed.value;
    // The amount is checked against the invoice's currency; its minor units are known only then.
    const state = await deps.billing.load(body.orderId);
    let expected: number | null = null;
    if (body.amount !== null && state.status !== 'none') {
      expected = parseAmount(body.amount, minorDigits(state.invoice.currency)) ?? -1;
    }
    const outcome = await deps.billing.takePayment({
      orderId: body.orderId, method: body.method, expectedAmountMinor: expected, idempotencyKey: key,
      requestHash: createHash('sha256').update(JSON.stringify(body)).digest('hex'),
    }, deps.now().toISOString());
    switch (outcome.kind) {
      case 'taken':
      case 'replayed': {
        if (outcome.kind === 'replayed') ctx.set('Idempotent-Replayed', 'true');
        ctx.status = 201;
        ctx.set('Location', `/payments/${outcome.paymentId}`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = paymentBody(outcome.state);
        return;
      }
      case 'key-reused':
        throw unprocessable('This Idempotency-Key was already used for a different payment', { orderId: outcome.orderId });
      case 'rejected': {
        const d = outcome.decision;
        switch (d.reason) {
          case 'order-unknown':
            ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
            throw new HttpProblem(409, 'Order not known yet', `Billing has not read order ${body.orderId} from the order feed yet. Retry with the same Idempotency-Key; nothing was charged.`, { retryable: true, orderId: body.orderId });
          case 'invoice-voided':
            throw conflict(`Order ${body.orderId} was cancelled and its invoice ${d.invoiceId} voided; nothing was charged`, { invoiceId: d.invoiceId, retryable: false });
          case 'already-paid':
            throw conflict(`Order ${body.orderId} is already paid (payment ${d.paymentId}); nothing was charged`, { invoiceId: d.invoiceId, paymentId: d.paymentId, retryable: false });
          case 'amount-mismatch':
            throw unprocessable(`The amount does not match the invoice total of ${formatAmount(d.totalMinor, minorDigits(d.currency))} ${d.currency}`, { total: formatAmount(d.totalMinor, minorDigits(d.currency)), currency: d.currency });
          case 'not-invoiceable':
            throw conflict(d.detail);
          default:
            return assertNever(d);
        }
      }
      default:
        return assertNever(outcome);
    }
  });

  router.get('/payments/:id', auth, async (ctx) => {
    const orderId = await deps.billing.orderOfPayment(ctx.params['id'] ?? '');
    const state = orderId === undefined ? undefined : await deps.billing.load(orderId);
    if (!state || (state.status !== 'paid' && state.status !== 'voided') || !state.payment) throw notFound(`There is no payment ${ctx.params['id']}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = paymentView(state.invoice, state.payment);
  });

  router.get('/invoices/:orderId', auth, async (ctx) => {
    const state = await deps.billing.load(ctx.params['orderId'] ?? '');
    if (state.status === 'none') throw notFound(`Billing has no invoice for order ${ctx.params['orderId']}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = invoiceView(state);
  });

  return router;
}

function paymentBody(state: BillingState): Record<string, unknown> {
  if (state.status !== 'paid' && state.status !== 'voided' || !state.payment) throw new Error('A taken payment left no payment behind');
  return paymentView(state.invoice, state.payment);
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
