import { migrate, openDatabase } from '@shop/common';
import { expect } from 'chai';
import { queryPlan, recordingDb } from '../testing/recordingDb.ts';
import { notificationMigrations } from './migrations.ts';
import { type NewEmail, NotificationStore } from './notificationStore.ts';

const email = (n: number, orderId = `ORD-${n}`): NewEmail => ({
  key: `order-${orderId}-confirmation-${n}`, orderId, kind: 'confirmation', toName: 'Ada', toAddress: 'ada@example.com',
  subject: `Order ${orderId}`, html: `<p>${'x'.repeat(5000)}</p>`, text: 'y'.repeat(5000), messageId: `<m-${n}@shop.example>`,
  createdAt: `2025-06-10T09:00:${String(n).padStart(2, '0')}.000Z`,
});

/** Each plan line that reads a table must read an index alone (or the one-row counter). */
function readsNoRow(plan: readonly string[]): string[] {
  return plan.filter((l) => /^(SCAN|SEARCH) /.test(l) && !/USING COVERING INDEX/.test(l) && !/^SCAN (CONSTANT ROW|outbox_sent_count)$/.test(l));
}

describe('The outbox queries that run often', () => {
  const setUp = () => {
    const db = openDatabase(':memory:');
    migrate(db, notificationMigrations);
    const recorded = recordingDb(db);
    return { db, ran: recorded.ran, store: new NotificationStore(recorded.db) };
  };

  it('count the outbox by state for /status and /metrics from indexes and a kept count, never reading an email', () => {
    const { db, ran, store } = setUp();
    for (let n = 1; n <= 5; n++) store.enqueue(email(n));
    store.markSent(1, '2025-06-10T09:01:00Z', 'eml');
    store.markSent(2, '2025-06-10T09:01:00Z', 'eml');
    store.markRetry(3, '451 try later', '2025-06-10T09:02:00Z');
    store.markDead(4, 'permanent failure: 550', '2025-06-10T09:01:00Z');
    ran.length = 0;
    expect(store.outboxStates()).to.deep.equal({ queued: 1, failed: 1, sent: 2, dead: 1, oldestUnsentAt: '2025-06-10T09:00:03.000Z' });
    expect(store.counts()).to.deep.equal({ total: 5, unsent: 3 });
    const queries = [...new Set(ran.map((r) => r.sql))];
    expect(queries).to.have.length.greaterThan(0);
    for (const sql of queries) expect(readsNoRow(queryPlan(db, sql)), sql).to.deep.equal([]);
  });

  it('finds the emails due from indexes alone, in batches, holding back an order behind its earlier email', () => {
    const { db, ran, store } = setUp();
    for (let n = 1; n <= 5; n++) store.enqueue(email(n, n === 4 ? 'ORD-2' : `ORD-${n}`));
    store.markRetry(2, '451 try later', '2025-06-10T10:00:00Z');
    store.markDead(3, 'permanent failure: 550', '2025-06-10T09:01:00Z');
    ran.length = 0;
    const now = '2025-06-10T09:05:00Z';
    expect(store.dueIds(now, 0, 2)).to.deep.equal([{ id: 1, orderId: 'ORD-1' }, { id: 5, orderId: 'ORD-5' }]);
    expect(store.dueIds(now, 5, 2)).to.deep.equal([]);
    for (const sql of new Set(ran.map((r) => r.sql))) expect(readsNoRow(queryPlan(db, sql)), sql).to.deep.equal([]);
  });

  it('keeps the sent count in step with the outbox, counting what was sent before the migration', () => {
    const db = openDatabase(':memory:');
    migrate(db, notificationMigrations.filter((m) => m.id !== 'notification-004-outbox-covering-indexes'));
    const insert = db.prepare(`INSERT INTO outbox (key, order_id, kind, to_name, to_address, subject, html, text, message_id, created_at, sent_at)
      VALUES (@key, @orderId, @kind, @toName, @toAddress, @subject, @html, @text, @messageId, @createdAt, @sentAt)`);
    for (let n = 1; n <= 3; n++) insert.run({ ...email(n), sentAt: n <= 2 ? '2025-06-10T09:01:00Z' : null });
    migrate(db, notificationMigrations);
    const store = new NotificationStore(db);
    expect(store.outboxStates()).to.include({ sent: 2, queued: 1 });
    store.markSent(3, '2025-06-10T09:02:00Z', 'eml');
    store.markSent(3, '2025-06-10T09:03:00Z', 'eml');
    expect(store.requeue(3), 'a sent email is not requeued').to.equal(false);
    store.enqueue(email(4));
    store.markDead(4, 'permanent failure: 550', '2025-06-10T09:04:00Z');
    store.requeueDead();
    expect(store.outboxStates()).to.include({ sent: 3, queued: 1, dead: 0 });
    expect(store.counts()).to.deep.equal({ total: 4, unsent: 1 });
    db.prepare('DELETE FROM outbox WHERE id = 1').run();
    expect(store.counts()).to.deep.equal({ total: 3, unsent: 1 });
  });
});
