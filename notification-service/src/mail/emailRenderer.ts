import { Eta } from 'eta';
import type { Section } from '../domain/facts.ts';
import type { DeliveryPart, NotificationState } from '../domain/policy.ts';

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export type EmailKind = 'confirmation' | 'dispatched' | 'followup' | 'cancellation';

/** What the templates get as `it`: see templates/README.md, which marketing reads. */
export interface TemplateData {
  readonly orderId: string;
  readonly customerName: string;
  readonly sections: {
    readonly order: Section; readonly payment?: Section; readonly shipment?: Section; readonly digital?: Section; readonly dispatch?: Section;
    /** Billing's refund section (InvoiceVoided), once the order was cancelled. */
    readonly refund?: Section;
    /** Shipping's section when the goods had left before the cancellation (DispatchedBeforeCancellation). */
    readonly dispatchedBeforeCancellation?: Section;
  };
  readonly missing: readonly DeliveryPart[];
  /** In a follow-up: the delivery part that came after the confirmation went without it. */
  readonly part?: DeliveryPart;
  readonly carrier: string | null;
  readonly trackingNumber: string | null;
}

/**
 * Renders emails from the editable templates in `templatesDir`. HTML escapes what it prints
 * (a customer's name is text, never markup); the services' sections are dropped in as published.
 * Files are read on every render, so a template edit applies to the next email.
 */
export class EmailRenderer {
  readonly #html: Eta;
  readonly #text: Eta;

  constructor(templatesDir: string) {
    this.#html = new Eta({ views: templatesDir, cache: false, autoEscape: true });
    this.#text = new Eta({ views: templatesDir, cache: false, autoEscape: false, autoTrim: false });
  }

  render(kind: EmailKind, data: TemplateData): RenderedEmail {
    const subject = this.#text.render(`${kind}.subject.txt`, data).replace(/\s+/g, ' ').trim();
    const html = this.#html.render(`${kind}.html`, { ...data, subject });
    const text = this.#text.render(`${kind}.txt`, data).replace(/\n{3,}/g, '\n\n');
    return { subject, html, text };
  }
}

/** The template data for an email about an order whose order part is known. */
export function templateData(s: NotificationState, missing: readonly DeliveryPart[]): TemplateData {
  if (!s.order) throw new Error(`order ${s.orderId}: no order details to address an email`);
  return {
    orderId: s.orderId,
    customerName: s.order.customer.name,
    sections: {
      order: s.order.section, payment: s.payment, shipment: s.shipment, digital: s.digital, dispatch: s.dispatch?.section,
      refund: s.refund, dispatchedBeforeCancellation: s.dispatchedBeforeCancellation?.section,
    },
    missing,
    carrier: s.dispatch?.carrier ?? null,
    trackingNumber: s.dispatch?.trackingNumber ?? null,
  };
}
