import type { BillingEvent, CardMethod } from './events.ts';
import type { Invoice } from './invoice.ts';

export interface Payment {
  readonly paymentId: string;
  readonly amountMinor: number;
  readonly method: CardMethod;
  readonly paidAt: string;
}

/** Billing's view of one order. */
export type BillingState =
  | { readonly status: 'none' }
  | { readonly status: 'issued'; readonly invoice: Invoice }
  | { readonly status: 'paid'; readonly invoice: Invoice; readonly payment: Payment }
  | { readonly status: 'voided'; readonly invoice: Invoice; readonly payment: Payment | null; readonly voidedAt: string; readonly reason: string | null };

export const initialState: BillingState = { status: 'none' };

export function evolve(state: BillingState, event: BillingEvent): BillingState {
  switch (event.type) {
    case 'InvoiceIssued':
      return { status: 'issued', invoice: event.invoice };
    case 'PaymentReceived':
      if (state.status !== 'issued') return state;
      return { status: 'paid', invoice: state.invoice, payment: { paymentId: event.paymentId, amountMinor: event.amountMinor, method: event.method, paidAt: event.paidAt } };
    case 'InvoiceVoided':
      if (state.status !== 'issued' && state.status !== 'paid') return state;
      return { status: 'voided', invoice: state.invoice, payment: state.status === 'paid' ? state.payment : null, voidedAt: event.voidedAt, reason: event.reason };
    default:
      return assertNever(event);
  }
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
