import { expect } from 'chai';
import type { Fact, OrderLine } from './facts.ts';
import { decide, dueAt, type EmailIntent, evolve, initialState, type NotificationState, type PolicyConfig } from './policy.ts';

const T0 = new Date('2025-03-01T10:00:00Z');
const WAIT: PolicyConfig = { missingPartAfterMs: 15 * 60_000, onMissingPart: 'wait' };
const sec = (name: string) => ({ html: `<p>${name}</p>`, text: name });
const line = (delivery: OrderLine['delivery']): OrderLine => ({ sku: `SKU-${delivery}`, name: delivery, quantity: 1, delivery });

const placed = (...lines: OrderLine[]): Fact => ({ type: 'OrderPlaced', orderId: 'O-1', customer: { name: 'Ada', email: 'ada@example.com' }, lines, section: sec('order') });
const paid: Fact = { type: 'PaymentReceived', orderId: 'O-1', section: sec('payment') };
const scheduled: Fact = { type: 'ShipmentScheduled', orderId: 'O-1', section: sec('shipment') };
const digital: Fact = { type: 'DigitalDeliveryReady', orderId: 'O-1', section: sec('digital') };
const dispatched: Fact = { type: 'ShipmentDispatched', orderId: 'O-1', carrier: 'DHL', trackingNumber: 'T1', section: sec('dispatch') };
const cancelled: Fact = { type: 'OrderCancelled', orderId: 'O-1', reason: null };

/** Given these facts, one at a time, each followed by a decision: every email decided. */
function run(facts: readonly Fact[], cfg = WAIT, at = T0): { state: NotificationState; emails: EmailIntent[] } {
  let state = initialState('O-1');
  const emails: EmailIntent[] = [];
  for (const f of facts) {
    const d = decide(evolve(state, f), at, cfg);
    state = d.state;
    emails.push(...d.emails);
  }
  return { state, emails };
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('The notification policy', () => {
  describe('for an order with physical and digital lines', () => {
    const facts = [placed(line('physical'), line('digital')), paid, scheduled, digital];
    it('sends exactly one complete confirmation whatever order the four parts arrive in (24 orders)', () => {
      for (const order of permutations(facts)) {
        expect(run(order).emails, order.map((f) => f.type).join(',')).to.deep.equal([{ kind: 'confirmation', missing: [] }]);
      }
    });
    it('sends nothing twice when every fact arrives again', () => {
      expect(run([...facts, ...facts]).emails).to.have.length(1);
    });
  });

  describe('for a digital-only order', () => {
    it('confirms without waiting for a shipment that will never come', () => {
      expect(run([paid, placed(line('digital')), digital]).emails).to.deep.equal([{ kind: 'confirmation', missing: [] }]);
    });
    it('waits for the download section', () => {
      expect(run([placed(line('digital')), paid]).emails).to.deep.equal([]);
    });
  });

  describe('when cancelled', () => {
    it('sends no confirmation when cancelled before the last part came, whatever the order', () => {
      const orders = permutations([placed(line('physical')), paid, scheduled, cancelled]).filter((o) => o.at(-1) !== cancelled);
      expect(orders).to.have.length(18);
      for (const order of orders) expect(run(order).emails).to.deep.equal([]);
    });
    it('sends no dispatch notice either', () => {
      expect(run([placed(line('physical')), cancelled, paid, scheduled, dispatched]).emails).to.deep.equal([]);
    });
  });

  it('sends nothing before payment', () => {
    expect(run([placed(line('physical')), scheduled, dispatched]).emails).to.deep.equal([]);
  });

  describe('when a dispatch arrives', () => {
    it('sends "on its way" after the confirmation, even when the dispatch came first', () => {
      expect(run([dispatched, placed(line('physical')), paid, scheduled]).emails.map((e) => e.kind)).to.deep.equal(['confirmation', 'dispatched']);
    });
  });

  describe('when a delivery part is still missing at the deadline', () => {
    const parts = [placed(line('physical'), line('digital')), paid, scheduled];
    it('keeps waiting by default and reports the order overdue once', () => {
      const { state } = run(parts);
      const late = decide(state, new Date(T0.getTime() + WAIT.missingPartAfterMs), WAIT);
      expect(late.emails).to.deep.equal([]);
      expect(late.becameOverdue).to.deep.equal(['digital']);
      expect(decide(late.state, new Date(T0.getTime() + 2 * WAIT.missingPartAfterMs), WAIT).becameOverdue).to.deep.equal([]);
    });
    it('sends without the section when configured to', () => {
      const cfg: PolicyConfig = { ...WAIT, onMissingPart: 'send-without' };
      const { state, emails } = run(parts, cfg);
      expect(emails).to.deep.equal([]);
      expect(decide(state, new Date(T0.getTime() + WAIT.missingPartAfterMs - 1), cfg).emails).to.deep.equal([]);
      const late = decide(state, new Date(T0.getTime() + WAIT.missingPartAfterMs), cfg);
      expect(late.emails).to.deep.equal([{ kind: 'confirmation', missing: ['digital'] }]);
      expect(decide(evolve(late.state, digital), T0, cfg).emails).to.deep.equal([{ kind: 'followup', part: 'digital' }]);
    });
    it('is due for a decision of its own at its deadline, and never again once found overdue or confirmed', () => {
      const { state } = run(parts);
      expect(dueAt(state, WAIT)).to.equal(new Date(T0.getTime() + WAIT.missingPartAfterMs).toISOString());
      const late = decide(state, new Date(T0.getTime() + WAIT.missingPartAfterMs), WAIT);
      expect(dueAt(late.state, WAIT)).to.equal(null);
      expect(dueAt(run([...parts, digital]).state, WAIT)).to.equal(null);
      expect(dueAt(run([placed(line('physical'))]).state, WAIT)).to.equal(null);
    });
  });

  describe('when a part arrives after a confirmation sent without it', () => {
    const SEND: PolicyConfig = { ...WAIT, onMissingPart: 'send-without' };
    const DEADLINE = new Date(T0.getTime() + SEND.missingPartAfterMs);
    /** Given the early facts at T0 and the deadline passed, then the late facts in this order: every email decided. */
    function afterDeadline(early: readonly Fact[], late: readonly Fact[], cfg = SEND) {
      const first = run(early, cfg);
      const tick = decide(first.state, DEADLINE, cfg);
      let state = tick.state;
      const emails = [...first.emails, ...tick.emails];
      for (const f of late) {
        const d = decide(evolve(state, f), DEADLINE, cfg);
        state = d.state;
        emails.push(...d.emails);
      }
      return { state, emails };
    }
    const both = placed(line('physical'), line('digital'));

    it('sends each late part once as a follow-up, whatever order the late facts (and their repeats) arrive in (120 orders)', () => {
      for (const late of permutations([scheduled, digital, dispatched, digital, scheduled])) {
        const { emails } = afterDeadline([both, paid], late);
        const label = late.map((f) => f.type).join(',');
        expect(emails[0], label).to.deep.equal({ kind: 'confirmation', missing: ['shipment', 'digital'] });
        expect(emails.slice(1), label).to.have.deep.members([{ kind: 'followup', part: 'shipment' }, { kind: 'followup', part: 'digital' }, { kind: 'dispatched' }]);
      }
    });

    it('sends the shipment follow-up before the dispatch notice when they are decided together', () => {
      const { state } = afterDeadline([both, paid, digital], []);
      const d = decide(evolve(evolve(state, dispatched), scheduled), DEADLINE, SEND);
      expect(d.emails).to.deep.equal([{ kind: 'followup', part: 'shipment' }, { kind: 'dispatched' }]);
    });

    it('sends no follow-up for a part the confirmation already had', () => {
      expect(afterDeadline([both, paid, scheduled], [scheduled, digital, digital]).emails)
        .to.deep.equal([{ kind: 'confirmation', missing: ['digital'] }, { kind: 'followup', part: 'digital' }]);
    });

    it('sends no follow-up once the order is cancelled', () => {
      expect(afterDeadline([both, paid], [cancelled, scheduled, digital]).emails).to.deep.equal([{ kind: 'confirmation', missing: ['shipment', 'digital'] }]);
    });

    it('never sends one when waiting for the parts (the default)', () => {
      const { emails } = afterDeadline([both, paid], [digital, scheduled, dispatched], WAIT);
      expect(emails).to.deep.equal([{ kind: 'confirmation', missing: [] }, { kind: 'dispatched' }]);
    });

    it('reads a state saved before follow-ups existed as one that needs none', () => {
      const { state } = run([both, paid, scheduled, digital]);
      const { confirmationLacked: _l, followUpsSent: _f, ...old } = state;
      expect(decide(evolve(old, digital), DEADLINE, SEND).emails).to.deep.equal([]);
    });
  });
});

describe('The notification policy, when a confirmed order is cancelled', () => {
  const refunded: Fact = { type: 'InvoiceVoided', orderId: 'O-1', section: sec('refund') };
  const stopped: Fact = { type: 'ShipmentCancelled', orderId: 'O-1' };
  const gone = (shipment: boolean, downloads: boolean): Fact => ({ type: 'DispatchedBeforeCancellation', orderId: 'O-1', shipment, downloads, section: sec('already sent') });
  const confirmed = (...lines: OrderLine[]): Fact[] => [placed(...lines), paid, ...(lines.some((l) => l.delivery === 'physical') ? [scheduled] : []), ...(lines.some((l) => l.delivery === 'digital') ? [digital] : [])];
  const kinds = (facts: readonly Fact[]) => run(facts).emails.map((e) => e.kind);

  it('sends a cancellation email once the refund and the stopped parcel are known, whichever comes first', () => {
    for (const answers of permutations([cancelled, refunded, stopped])) {
      const facts = [...confirmed(line('physical')), ...answers];
      expect(kinds(facts), answers.map((f) => f.type).join(',')).to.deep.equal(['confirmation', 'cancellation']);
    }
    expect(kinds([...confirmed(line('physical')), cancelled, stopped]), 'no refund yet').to.deep.equal(['confirmation']);
  });

  it('waits for shipping to say what had left (the race) and shows it, after the "on its way" email already sent', () => {
    const facts = [...confirmed(line('physical'), line('digital')), dispatched, cancelled, refunded];
    expect(kinds(facts), 'shipping has not answered').to.deep.equal(['confirmation', 'dispatched']);
    expect(kinds([...facts, gone(true, false)]), 'the downloads are not answered for').to.deep.equal(['confirmation', 'dispatched']);
    const { state, emails } = run([...facts, gone(true, true)]);
    expect(emails.map((e) => e.kind)).to.deep.equal(['confirmation', 'dispatched', 'cancellation']);
    expect(state.dispatchedBeforeCancellation?.section).to.deep.equal(sec('already sent'));
  });

  it('sends no "on its way" email for a dispatch read after the cancellation: the cancellation email tells of it', () => {
    expect(kinds([...confirmed(line('physical')), cancelled, refunded, dispatched, gone(true, false)])).to.deep.equal(['confirmation', 'cancellation']);
  });

  it('for a digital-only order, waits for shipping to say the links were given', () => {
    expect(kinds([...confirmed(line('digital')), cancelled, refunded])).to.deep.equal(['confirmation']);
    expect(kinds([...confirmed(line('digital')), cancelled, refunded, gone(false, true)])).to.deep.equal(['confirmation', 'cancellation']);
  });

  it('sends one, whatever is read again', () => {
    const facts = [...confirmed(line('physical')), cancelled, refunded, stopped];
    expect(kinds([...facts, ...facts])).to.deep.equal(['confirmation', 'cancellation']);
  });

  it('sends none for an order cancelled before its confirmation, paid or not', () => {
    expect(kinds([placed(line('physical')), paid, cancelled, refunded, scheduled, stopped])).to.deep.equal([]);
    expect(kinds([placed(line('physical')), cancelled, refunded])).to.deep.equal([]);
  });
});
