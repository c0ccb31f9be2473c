import { createLogger, migrate, openDatabase } from '@shop/common';
import { expect } from 'chai';
import { notificationMigrations } from '../db/migrations.ts';
import { type NewEmail, NotificationStore, type OutboxEmail } from '../db/notificationStore.ts';
import { recordingDb } from '../testing/recordingDb.ts';
import { type MailTransport, OutboxSender } from './outboxSender.ts';

/** A mail server that is down (a refused connection) until `down` is set to false. */
class FakeServer implements MailTransport {
  readonly name = 'fake';
  readonly tries: number[] = [];
  down = true;
  async deliver(email: OutboxEmail): Promise<void> {
    this.tries.push(email.id);
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ESOCKET' });
  }
  close(): void { /* nothing held */ }
}

const email = (n: number): NewEmail => ({
  key: `order-ORD-${n}-confirmation`, orderId: `ORD-${n}`, kind: 'confirmation', toName: 'Ada', toAddress: 'ada@example.com',
  subject: `Your order ORD-${n}`, html: `<p>${'x'.repeat(4000)}</p>`, text: 'y'.repeat(4000), messageId: `<order-ORD-${n}-confirmation@shop.example>`,
  createdAt: '2025-06-10T08:00:00.000Z',
});

describe('The outbox sender during a mail server outage', () => {
  const setUp = (queued: number, maxAgeHours = 72) => {
    const db = openDatabase(':memory:');
    migrate(db, notificationMigrations);
    const { db: recording, ran } = recordingDb(db);
    const store = new NotificationStore(recording);
    for (let n = 1; n <= queued; n++) store.enqueue(email(n));
    const server = new FakeServer();
    let now = new Date('2025-06-10T09:00:00Z');
    const sender = new OutboxSender(store, server, {
      from: 'Atom Shop <orders@shop.example>', logger: createLogger({}, 'silent'), now: () => now, random: () => 0.5, batchSize: 100,
      retry: { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 10, maxAgeMs: maxAgeHours * 3_600_000, jitter: 0.2 },
    });
    /** The ids of the emails whose content (html, text, MIME) was read since the last call. */
    const contentRead = () => {
      const ids = new Set(ran.flatMap((r) => r.rows).filter((row): row is { id: number } => typeof row === 'object' && row !== null && 'html' in row).map((row) => row.id));
      const queries = ran.length;
      ran.length = 0;
      return { ids: [...ids], queries };
    };
    return { store, server, sender, contentRead, tick: (ms: number) => { now = new Date(now.getTime() + ms); } };
  };

  it('reads one email to find the server down, then backs the whole transport off, reading nothing until it is due', async () => {
    const { server, sender, contentRead, tick } = setUp(250);
    contentRead();
    await sender.sendPending();
    expect(server.tries).to.have.length(1);
    expect(contentRead().ids, 'only the email it tried').to.deep.equal([1]);
    expect(sender.transportStatus()).to.deep.include({ failures: 1, failingSince: '2025-06-10T09:00:00.000Z', retryAt: '2025-06-10T09:00:30.000Z' });

    for (let i = 0; i < 5; i++) { tick(5_000); await sender.sendPending(); }
    expect(server.tries, 'the transport waits out its backoff').to.have.length(1);
    expect(contentRead().queries, 'not even the due ids are read while it waits').to.equal(0);
    tick(5_000);
    await sender.sendPending();
    expect(server.tries).to.have.length(2);
    expect(contentRead().ids).to.have.length(1);
    expect(sender.transportStatus().retryAt, 'the same doubling backoff as an email').to.equal('2025-06-10T09:01:30.000Z');
    tick(59_000);
    await sender.sendPending();
    expect(server.tries).to.have.length(2);
  });

  it('sends the whole queue once the server is back, in batches of ids, reading each email once as it goes', async () => {
    const { store, server, sender, contentRead, tick } = setUp(250);
    await sender.sendPending();
    server.down = false;
    tick(30_000);
    contentRead();
    const result = await sender.sendPending();
    expect(result).to.deep.include({ sent: 250 });
    expect(store.outboxStates()).to.include({ sent: 250, queued: 0, failed: 0 });
    expect(server.tries.slice(1), 'in outbox order').to.deep.equal(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(contentRead().ids).to.have.length(250);
    expect(sender.transportStatus()).to.deep.include({ failures: 0, failingSince: null, retryAt: null });
  });

  it('charges no email a try while the server cannot be reached: a 5-hour outage dead-letters nothing (OUTBOX_MAX_TRIES 10)', async () => {
    const { store, server, sender, tick } = setUp(20);
    for (let minute = 0; minute < 5 * 60; minute++) { await sender.sendPending(); tick(60_000); }
    expect(server.tries.length, 'one try per step of the transport\'s backoff, more than OUTBOX_MAX_TRIES').to.be.within(11, 13);
    expect(store.outboxStates()).to.include({ queued: 20, failed: 0, dead: 0 });
    expect(store.list().every((e) => e.attempts === 0 && e.lastError === null && e.nextAttemptAt === null)).to.equal(true);
    server.down = false;
    tick(3_600_000);
    await sender.sendPending();
    expect(store.outboxStates()).to.include({ sent: 20, dead: 0 });
    expect(store.list().every((e) => e.attempts === 1)).to.equal(true);
  });

  it('gives up on the emails that have waited OUTBOX_MAX_AGE_HOURS when the server still cannot be reached, and only those', async () => {
    const { store, server, sender, tick } = setUp(3, 2);
    tick(30 * 60_000);
    store.enqueue({ ...email(4), createdAt: '2025-06-10T09:30:00.000Z' });
    for (let minute = 0; minute < 25; minute++) { await sender.sendPending(); tick(60_000); }
    expect(store.outboxStates()).to.include({ queued: 4, dead: 0 });
    for (let minute = 0; minute < 60; minute++) { await sender.sendPending(); tick(60_000); }
    expect(store.dead().map((e) => e.id), 'queued at 08:00: past 2 hours at the first try after 10:00').to.deep.equal([1, 2, 3]);
    expect(store.dead()[0]).to.include({ attempts: 0 });
    expect(store.dead()[0]!.lastError).to.match(/^gave up after 2 hours: mail server unreachable: connect ECONNREFUSED/);
    expect(store.outboxStates()).to.include({ queued: 1, dead: 3 });
    server.down = false;
    tick(3_600_000);
    await sender.sendPending();
    expect(store.outboxStates()).to.include({ sent: 1, dead: 3 });
  });
});
