import { escapeAttr, escapeText } from '@shop/common';
import type { Section } from '../domain/facts.ts';
import type { DeliveryPart, EmailIntent, NotificationState } from '../domain/policy.ts';
import { TemplateLibrary } from './templateLibrary.ts';

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** The version of the templates it was made from (see templateSet.ts), or `built-in`. */
  readonly templateVersion: string;
}

/** The version recorded for an email made without templates (none usable for its kind). */
export const BUILT_IN = 'built-in';

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
  /** The email's "view in your browser" page; null on that page itself. */
  readonly viewUrl?: string | null;
}

/**
 * Renders emails with the templates in use (see TemplateLibrary: each kind's last version that
 * passed its check, never the files on disk as they are). It never throws for a template: should
 * the version in use still fail for one order, or a kind have no templates at all, that email is
 * made in a plain built-in form from the same sections and the failure is shown on /status, so a
 * template can never park an entry or stop the emails.
 */
export class EmailRenderer {
  readonly templates: TemplateLibrary;

  /** A directory (checked now, by compiling only: for tests) or the service's template library. */
  constructor(templates: string | TemplateLibrary) {
    this.templates = typeof templates === 'string' ? new TemplateLibrary({ dir: templates, samples: [] }).load() : templates;
  }

  render(kind: EmailKind, data: TemplateData): RenderedEmail {
    const set = this.templates.inUse(kind);
    if (!set) {
      this.templates.failed({ name: kind, version: BUILT_IN, orderId: data.orderId, message: `there are no ${kind} templates` });
      return plainEmail(data);
    }
    try {
      return { ...this.templates.render(set, data), templateVersion: set.version };
    } catch (err) {
      this.templates.failed({ name: kind, version: set.version, orderId: data.orderId, message: err instanceof Error ? err.message : String(err) });
      return plainEmail(data);
    }
  }
}

/** The last resort: every section there is, as published, with the order id in the subject. */
export function plainEmail(data: TemplateData): RenderedEmail {
  const sections = Object.values(data.sections).filter((x): x is Section => x !== undefined);
  const subject = `Atom Shop: your order ${data.orderId}`;
  const greeting = `Dear ${data.customerName},`;
  const view = data.viewUrl ? `<p><a href="${escapeAttr(data.viewUrl)}">View this email in your browser</a></p>\n` : '';
  return {
    subject,
    html: `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeText(subject)}</title></head><body>\n${view}<p>${escapeText(greeting)}</p>\n`
      + `${sections.map((x) => `<div>${x.html}</div>`).join('\n')}\n<p>Please quote your order number <strong>${escapeText(data.orderId)}</strong> when you contact us.</p>\n</body></html>\n`,
    text: `${greeting}\n\n${sections.map((x) => x.text).join('\n\n')}\n\nPlease quote your order number ${data.orderId} when you contact us.\n${data.viewUrl ? `\nView this email in your browser: ${data.viewUrl}\n` : ''}`,
    templateVersion: BUILT_IN,
  };
}

/**
 * The template data of an email the policy decided on: the order's sections and whatever the
 * intent itself carries (a confirmation's missing parts, a follow-up's part). The handler and the
 * sample emails both use it, so the templates are checked with what real emails get.
 */
export function emailData(s: NotificationState, intent: EmailIntent): TemplateData {
  const { kind: _kind, ...carried } = intent;
  return { ...templateData(s, []), ...carried };
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
