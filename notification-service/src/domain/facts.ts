/** A pre-formatted section of another service's entry: XHTML for the HTML email, text for the plain one. */
export interface Section {
  readonly html: string;
  readonly text: string;
}

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly delivery: 'physical' | 'digital';
}

/** What the notification policy learns from the three feeds; anything else is ignored. */
export type Fact =
  | { readonly type: 'OrderPlaced'; readonly orderId: string; readonly customer: { readonly name: string; readonly email: string }; readonly lines: readonly OrderLine[]; readonly section: Section }
  | { readonly type: 'OrderCancelled'; readonly orderId: string; readonly reason: string | null }
  | { readonly type: 'PaymentReceived'; readonly orderId: string; readonly section: Section }
  /** The refund section (billing formats it: amount, card, when; or that nothing was charged). */
  | { readonly type: 'InvoiceVoided'; readonly orderId: string; readonly section: Section }
  | { readonly type: 'ShipmentScheduled'; readonly orderId: string; readonly section: Section }
  | { readonly type: 'DigitalDeliveryReady'; readonly orderId: string; readonly section: Section }
  | { readonly type: 'ShipmentDispatched'; readonly orderId: string; readonly carrier: string | null; readonly trackingNumber: string | null; readonly section: Section }
  /** Shipping stopped the parcel still in the warehouse on the cancellation. */
  | { readonly type: 'ShipmentCancelled'; readonly orderId: string }
  /** The cancellation came after the parcel left or the links were given: which, and what to do. */
  | { readonly type: 'DispatchedBeforeCancellation'; readonly orderId: string; readonly shipment: boolean; readonly downloads: boolean; readonly section: Section };

/** The parts of a feed entry the facts are read from (a structural subset of common's ConsumedEntry). */
export interface EntryInput {
  readonly type: string;
  readonly orderId: string;
  readonly summary: string;
  readonly contentXhtml: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Thrown for an entry that breaks its feed's contract: the consumer retries, then parks it. */
export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

/** Reads a fact from an entry; `undefined` for event types this service does not care about. */
export function factFrom(e: EntryInput): Fact | undefined {
  const section = { html: e.contentXhtml, text: e.summary };
  const p = e.payload;
  switch (e.type) {
    case 'OrderPlaced': {
      const customer = obj(p['customer'], 'customer');
      const lines = arr(p['lines'], 'lines').map((l, i) => {
        const line = obj(l, `lines[${i}]`);
        const delivery = line['delivery'];
        if (delivery !== 'physical' && delivery !== 'digital') throw new ContractViolation(`OrderPlaced ${e.orderId}: lines[${i}].delivery must be physical or digital`);
        return { sku: str(line['sku'], 'sku'), name: str(line['name'], 'name'), quantity: Number(line['quantity']), delivery } as const;
      });
      if (lines.length === 0) throw new ContractViolation(`OrderPlaced ${e.orderId} has no lines`);
      return { type: 'OrderPlaced', orderId: e.orderId, customer: { name: str(customer['name'], 'customer.name'), email: email(customer['email']) }, lines, section };
    }
    case 'OrderCancelled':
      return { type: 'OrderCancelled', orderId: e.orderId, reason: typeof p['reason'] === 'string' ? p['reason'] : null };
    case 'PaymentReceived':
    case 'ShipmentScheduled':
    case 'DigitalDeliveryReady':
      return { type: e.type, orderId: e.orderId, section };
    case 'InvoiceVoided':
      return { type: 'InvoiceVoided', orderId: e.orderId, section };
    case 'ShipmentCancelled':
      return { type: 'ShipmentCancelled', orderId: e.orderId };
    case 'DispatchedBeforeCancellation':
      return { type: 'DispatchedBeforeCancellation', orderId: e.orderId, shipment: present(p['shipment'], 'shipment'), downloads: present(p['downloads'], 'downloads'), section };
    case 'ShipmentDispatched':
      return {
        type: 'ShipmentDispatched', orderId: e.orderId, section,
        carrier: typeof p['carrier'] === 'string' ? p['carrier'] : null,
        trackingNumber: typeof p['trackingNumber'] === 'string' ? p['trackingNumber'] : null,
      };
    default:
      return undefined;
  }
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ContractViolation(`payload ${what} must be an object`);
  return v as Record<string, unknown>;
}

/** An optional part of a payload: an object, or null when the entry has none. */
function present(v: unknown, what: string): boolean {
  if (v === null || v === undefined) return false;
  obj(v, what);
  return true;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new ContractViolation(`payload ${what} must be an array`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ContractViolation(`payload ${what} must be a non-empty string`);
  return v;
}

function email(v: unknown): string {
  const s = str(v, 'customer.email');
  if (!/^[^\s@<>"]+@[^\s@<>"]+$/.test(s)) throw new ContractViolation(`payload customer.email is not an email address: ${s}`);
  return s;
}
