import type { Decider } from '@shop/common';
import type { BillingEvent, CardMethod } from './events.ts';
import { buildInvoice } from './invoice.ts';
import type { PlacedOrder } from './orderContract.ts';
import { type BillingState, evolve, initialState } from './evolve.ts';

export interface IssueInvoice {
  readonly type: 'IssueInvoice';
  readonly order: PlacedOrder;
  /** The next number in the invoice sequence, allocated by the caller. */
  readonly invoiceId: string;
  readonly at: string;
}

export interface TakePayment {
  readonly type: 'TakePayment';
  readonly orderId: string;
  readonly paymentId: string;
  readonly method: CardMethod;
  /** When the payer states the amount, it must be the invoice total. */
  readonly expectedAmountMinor: number | null;
  readonly at: string;
}

export interface VoidInvoice {
  readonly type: 'VoidInvoice';
  readonly orderId: string;
  readonly reason: string | null;
  readonly at: string;
}

export type BillingCommand = IssueInvoice | TakePayment | VoidInvoice;

export type Rejection =
  | { readonly reason: 'order-unknown' }
  | { readonly reason: 'invoice-voided'; readonly invoiceId: string }
  | { readonly reason: 'already-paid'; readonly invoiceId: string; readonly paymentId: string }
  | { readonly reason: 'amount-mismatch'; readonly totalMinor: number; readonly currency: string }
  | { readonly reason: 'not-invoiceable'; readonly detail: string };

export type Decision = ({ readonly ok: true; readonly events: readonly BillingEvent[] }) | ({ readonly ok: false } & Rejection);

const none: Decision = { ok: true, events: [] };

/**
 * Billing's rules. Facts read from another feed (an order placed or cancelled) are never
 * refused for being late or repeated: a repeat is a no-op, a cancellation of an order
 * billing never saw changes nothing.
 */
export function decide(command: BillingCommand, state: BillingState): Decision {
  switch (command.type) {
    case 'IssueInvoice': {
      if (state.status !== 'none') return none;
      const built = buildInvoice(command.order, command.invoiceId, command.at);
      if (!built.ok) return { ok: false, reason: 'not-invoiceable', detail: built.reason };
      return { ok: true, events: [{ type: 'InvoiceIssued', invoice: built.invoice }] };
    }
    case 'TakePayment': {
      switch (state.status) {
        case 'none':
          return { ok: false, reason: 'order-unknown' };
        case 'voided':
          return { ok: false, reason: 'invoice-voided', invoiceId: state.invoice.invoiceId };
        case 'paid':
          return { ok: false, reason: 'already-paid', invoiceId: state.invoice.invoiceId, paymentId: state.payment.paymentId };
        case 'issued': {
          const { invoice } = state;
          if (command.expectedAmountMinor !== null && command.expectedAmountMinor !== invoice.totalMinor) {
            return { ok: false, reason: 'amount-mismatch', totalMinor: invoice.totalMinor, currency: invoice.currency };
          }
          return {
            ok: true,
            events: [{
              type: 'PaymentReceived', orderId: invoice.orderId, invoiceId: invoice.invoiceId, paymentId: command.paymentId,
              amountMinor: invoice.totalMinor, currency: invoice.currency, method: command.method, paidAt: command.at,
            }],
          };
        }
        default:
          return assertNever(state);
      }
    }
    case 'VoidInvoice': {
      if (state.status !== 'issued' && state.status !== 'paid') return none;
      return {
        ok: true,
        events: [{
          type: 'InvoiceVoided', orderId: state.invoice.orderId, invoiceId: state.invoice.invoiceId, voidedAt: command.at,
          reason: command.reason, refundMinor: state.status === 'paid' ? state.payment.amountMinor : null,
          ...(state.status === 'paid' ? { refundMethod: state.payment.method } : {}),
        }],
      };
    }
    default:
      return assertNever(command);
  }
}

/** Billing's rules as one decider, for the command handler and the tests. */
export const billingDecider: Decider<BillingState, BillingCommand, BillingEvent, Decision> = { initialState, evolve, decide };

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
