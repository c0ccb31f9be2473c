import type { Fact, OrderLine, Section } from './facts.ts';

export type DeliveryPart = 'shipment' | 'digital';

/** Everything known about one order's notifications, gathered from the feeds in any order. */
export interface NotificationState {
  readonly orderId: string;
  readonly order?: { readonly customer: { readonly name: string; readonly email: string }; readonly lines: readonly OrderLine[]; readonly section: Section };
  readonly payment?: Section;
  readonly shipment?: Section;
  readonly digital?: Section;
  readonly dispatch?: { readonly carrier: string | null; readonly trackingNumber: string | null; readonly section: Section };
  readonly cancelled: boolean;
  readonly invoiceVoided: boolean;
  /** When the order and its payment were both known: the clock for a missing delivery part. */
  readonly readySince?: string;
  readonly confirmationSent: boolean;
  /** The delivery parts the confirmation went without (`send-without`); each gets a follow-up when it comes. */
  readonly confirmationLacked?: readonly DeliveryPart[];
  /** The late parts already sent as a follow-up. Optional: states saved before follow-ups existed lack both. */
  readonly followUpsSent?: readonly DeliveryPart[];
  readonly dispatchSent: boolean;
  /** Billing's refund section, from its InvoiceVoided entry. */
  readonly refund?: Section;
  /** Shipping stopped the parcel still in the warehouse (ShipmentCancelled). */
  readonly shipmentCancelled?: boolean;
  /** Shipping's word that goods had left before it read the cancellation: which ones, and its section. */
  readonly dispatchedBeforeCancellation?: { readonly shipment: boolean; readonly downloads: boolean; readonly section: Section };
  /** Optional, as the three above: states saved before cancellation emails existed lack them. */
  readonly cancellationSent?: boolean;
  /** True once a wait for a missing part passed its deadline (reported once). */
  readonly overdue: boolean;
}

export interface PolicyConfig {
  readonly missingPartAfterMs: number;
  readonly onMissingPart: 'wait' | 'send-without';
}

export type EmailIntent =
  | { readonly kind: 'confirmation'; readonly missing: readonly DeliveryPart[] }
  | { readonly kind: 'dispatched' }
  | { readonly kind: 'followup'; readonly part: DeliveryPart }
  | { readonly kind: 'cancellation' };

export interface Decision {
  readonly state: NotificationState;
  readonly emails: readonly EmailIntent[];
  /** Set when this decision found the order overdue for the first time. */
  readonly becameOverdue: readonly DeliveryPart[];
}

export function initialState(orderId: string): NotificationState {
  return { orderId, cancelled: false, invoiceVoided: false, confirmationSent: false, dispatchSent: false, overdue: false };
}

/** Folds a fact into the state. Applying the same fact twice gives the same state. */
export function evolve(s: NotificationState, f: Fact): NotificationState {
  switch (f.type) {
    case 'OrderPlaced': return { ...s, order: { customer: f.customer, lines: f.lines, section: f.section } };
    case 'OrderCancelled': return { ...s, cancelled: true };
    case 'PaymentReceived': return { ...s, payment: f.section };
    case 'InvoiceVoided': return { ...s, invoiceVoided: true, refund: f.section };
    case 'ShipmentScheduled': return { ...s, shipment: f.section };
    case 'DigitalDeliveryReady': return { ...s, digital: f.section };
    case 'ShipmentDispatched': return { ...s, dispatch: { carrier: f.carrier, trackingNumber: f.trackingNumber, section: f.section } };
    case 'ShipmentCancelled': return { ...s, shipmentCancelled: true };
    case 'DispatchedBeforeCancellation': return { ...s, dispatchedBeforeCancellation: { shipment: f.shipment, downloads: f.downloads, section: f.section } };
    default: return assertNever(f);
  }
}

/** The delivery parts an order needs, from its lines: physical lines ship, digital ones are downloaded. */
export function expectedParts(lines: readonly OrderLine[]): DeliveryPart[] {
  const parts: DeliveryPart[] = [];
  if (lines.some((l) => l.delivery === 'physical')) parts.push('shipment');
  if (lines.some((l) => l.delivery === 'digital')) parts.push('digital');
  return parts;
}

export function missingParts(s: NotificationState): DeliveryPart[] {
  return s.order ? expectedParts(s.order.lines).filter((p) => s[p] === undefined) : [];
}

/**
 * Decides which emails are due now. Pure: the time comes in. A cancelled order (or one whose
 * invoice was voided before payment) gets no confirmation; the dispatch notice always follows
 * the confirmation, never precedes it; a confirmed order that is cancelled gets a cancellation
 * email once its refund and shipping's answer are known.
 */
export function decide(s0: NotificationState, now: Date, cfg: PolicyConfig): Decision {
  let s = s0;
  const emails: EmailIntent[] = [];
  let becameOverdue: DeliveryPart[] = [];
  if (s.order && s.payment && !s.readySince) s = { ...s, readySince: now.toISOString() };
  const blocked = s.cancelled || (s.invoiceVoided && !s.payment);
  if (!s.confirmationSent && !blocked && s.order && s.payment) {
    const missing = missingParts(s);
    const late = s.readySince !== undefined && now.getTime() - Date.parse(s.readySince) >= cfg.missingPartAfterMs;
    if (missing.length === 0 || (late && cfg.onMissingPart === 'send-without')) {
      emails.push({ kind: 'confirmation', missing });
      s = { ...s, confirmationSent: true, confirmationLacked: missing };
    } else if (late && !s.overdue) {
      becameOverdue = missing;
      s = { ...s, overdue: true };
    }
  }
  // A part the confirmation went without is sent on its own once it arrives, before a dispatch
  // notice decided at the same time (the shipment section comes before its dispatch).
  if (s.confirmationSent && !s.cancelled) {
    for (const part of s.confirmationLacked ?? []) {
      if (s[part] === undefined || (s.followUpsSent ?? []).includes(part)) continue;
      emails.push({ kind: 'followup', part });
      s = { ...s, followUpsSent: [...(s.followUpsSent ?? []), part] };
    }
  }
  if (s.confirmationSent && !s.dispatchSent && s.dispatch && !s.cancelled) {
    emails.push({ kind: 'dispatched' });
    s = { ...s, dispatchSent: true };
  }
  // Only a customer who was told the order was confirmed is told it is cancelled; a confirmation
  // needs the payment, so every cancellation email has a refund to tell of.
  if (s.cancelled && s.confirmationSent && !s.cancellationSent && cancellationReady(s)) {
    emails.push({ kind: 'cancellation' });
    s = { ...s, cancellationSent: true };
  }
  return { state: s, emails, becameOverdue };
}

/**
 * Whether everything a cancellation email tells is in: billing's refund (it voids a paid invoice
 * with its refund when it reads the cancellation), and shipping's answer for each delivery part
 * known here: a scheduled parcel is either stopped (ShipmentCancelled) or already gone, and
 * download links once given are always told of (both DispatchedBeforeCancellation). Shipping
 * publishes its answer when it reads the cancellation, after the parts it answers for, so this
 * never waits for an entry that will not come.
 */
export function cancellationReady(s: NotificationState): boolean {
  if (s.payment && !s.invoiceVoided) return false;
  const told = s.dispatchedBeforeCancellation;
  if (s.shipment && !s.shipmentCancelled && !told?.shipment) return false;
  if (s.digital && !told?.downloads) return false;
  return true;
}

/** True while the state may still produce an email on its own (the periodic check looks at these). */
export function isWaiting(s: NotificationState): boolean {
  return !s.cancelled && !s.confirmationSent && s.order !== undefined && s.payment !== undefined;
}

/**
 * When the state next needs deciding with no entry arriving (its missing-part deadline), or null
 * when nothing time-driven is left: not waiting, or already found overdue (then only a part
 * arriving changes anything).
 */
export function dueAt(s: NotificationState, cfg: PolicyConfig): string | null {
  if (!isWaiting(s) || s.overdue || s.readySince === undefined) return null;
  return new Date(Date.parse(s.readySince) + cfg.missingPartAfterMs).toISOString();
}

function assertNever(x: never): never {
  throw new Error(`Unexpected fact ${JSON.stringify(x)}`);
}
