import { fileURLToPath } from 'node:url';
import { type ConsumedEntry, createLogger, migrate, openDatabase } from '@shop/common';
import { PRODUCERS, readExamples } from '@shop/common/contract';
import { expect } from 'chai';
import { notificationMigrations } from '../db/migrations.ts';
import { NotificationStore } from '../db/notificationStore.ts';
import { factFrom } from '../domain/facts.ts';
import { WHOLE } from '../domain/shard.ts';
import { EmailRenderer } from '../mail/emailRenderer.ts';
import { NotificationHandler } from './notificationHandler.ts';

/**
 * The notification service's readers against what the three producers really publish: their
 * contract examples (`<service>/src/feed/contract/examples.atom.xml`, made by their own code).
 * Between them the examples tell three orders' stories, which is what the emails are made of.
 */
const examples: ConsumedEntry[] = PRODUCERS.flatMap((s) => readExamples(s)).sort((a, b) => a.updated.localeCompare(b.updated));
const IGNORED = ['InvoiceIssued'];
const ordersWith = (type: string) => [...new Set(examples.filter((e) => e.type === type).map((e) => e.orderId))];

describe('The notification service reading the producers\' contract examples', () => {
  it('reads a fact from every entry it needs and ignores the rest, whatever the producers publish', () => {
    expect(new Set(examples.map((e) => e.type)).size, 'all ten entry types').to.equal(10);
    for (const e of examples) {
      const fact = factFrom(e);
      if (IGNORED.includes(e.type)) expect(fact, e.type).to.equal(undefined);
      else expect(fact, e.type).to.deep.include({ type: e.type, orderId: e.orderId });
      if (fact?.type === 'OrderPlaced') {
        expect(fact.customer).to.deep.equal(e.payload['customer']);
        expect(fact.lines.map((l) => l.delivery)).to.deep.equal((e.payload['lines'] as { delivery: string }[]).map((l) => l.delivery));
      }
      if (fact?.type === 'ShipmentDispatched') {
        expect([fact.carrier, fact.trackingNumber]).to.deep.equal([e.payload['carrier'], e.payload['trackingNumber']]);
      }
      if (fact?.type === 'DispatchedBeforeCancellation') {
        expect([fact.shipment, fact.downloads]).to.deep.equal([e.payload['shipment'] !== null, e.payload['downloads'] !== null]);
      }
      if (fact && 'section' in fact) expect(fact.section).to.deep.equal({ html: e.contentXhtml, text: e.summary });
    }
  });

  it("through its feed handler, emails each example order its confirmation, made of the producers' sections, its dispatch notice and its cancellation", () => {
    const db = openDatabase(':memory:');
    migrate(db, notificationMigrations);
    const store = new NotificationStore(db);
    const renderer = new EmailRenderer(fileURLToPath(new URL('../../templates', import.meta.url)));
    const handler = new NotificationHandler(store, renderer, {
      shard: WHOLE, missingPartAfterMs: 15 * 60_000, onMissingPart: 'wait', messageIdDomain: 'shop.example',
      logger: createLogger({}, 'silent'), now: () => new Date('2025-06-06T14:00:00.000Z'),
    });
    for (const e of examples) db.transaction(() => handler.handle(e)).immediate();

    // Each example order is paid and has all its parts before anything else happens to it (the
    // cancelled ones are cancelled afterwards, so they were rightly confirmed already, and one of
    // them was dispatched before its cancellation: the race).
    const expected = [
      ...ordersWith('PaymentReceived').map((id) => `${id} confirmation`),
      ...ordersWith('ShipmentDispatched').map((id) => `${id} dispatched`),
      ...ordersWith('OrderCancelled').map((id) => `${id} cancellation`),
    ];
    expect(ordersWith('DispatchedBeforeCancellation')).to.have.length(1);
    const emails = store.list();
    expect(emails.map((m) => `${m.orderId} ${m.kind}`).sort()).to.deep.equal(expected.sort());
    for (const m of emails.filter((x) => x.kind === 'confirmation')) {
      const parts = examples.filter((e) => e.orderId === m.orderId && ['OrderPlaced', 'PaymentReceived', 'ShipmentScheduled', 'DigitalDeliveryReady'].includes(e.type));
      expect(parts.map((p) => p.type)).to.include.members(['OrderPlaced', 'PaymentReceived']);
      for (const p of parts) {
        expect(m.html, `${m.orderId} ${p.type}`).to.include(p.contentXhtml);
        expect(m.text, `${m.orderId} ${p.type}`).to.include(p.summary);
      }
    }
    // The cancellation: billing's refund section (amount, card, when), and shipping's word on what had left.
    for (const m of emails.filter((x) => x.kind === 'cancellation')) {
      const parts = examples.filter((e) => e.orderId === m.orderId && ['InvoiceVoided', 'DispatchedBeforeCancellation'].includes(e.type));
      expect(parts.map((p) => p.type)).to.include('InvoiceVoided');
      expect(m.text).to.match(/A refund of .+? to (Visa|Mastercard|American Express) ending \d{4} was issued on/);
      for (const p of parts) {
        expect(m.html, `${m.orderId} ${p.type}`).to.include(p.contentXhtml);
        expect(m.text, `${m.orderId} ${p.type}`).to.include(p.summary);
      }
    }
    db.close();
  });
});
