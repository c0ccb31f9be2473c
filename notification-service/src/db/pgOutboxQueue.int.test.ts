import { requirePostgres } from '@shop/common/testing';
import { expect } from 'chai';
import { smtpTransport } from '../mail/outboxSender.ts';
import { type Delivery, queued, recorder, RETRY, sharedOutbox } from '../testing/pgOutbox.ts';
import { refuse, SmtpPeer } from '../testing/smtpPeer.ts';

type Outbox = Awaited<ReturnType<typeof sharedOutbox>>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messageIdOf = (raw: Buffer) => /^Message-ID: *(.+?)\r?$/im.exec(raw.toString('latin1'))?.[1];

describe('The outbox shared in PostgreSQL by several instances', function () {
  this.timeout(60_000);
  let outbox: Outbox | undefined;
  const peers: SmtpPeer[] = [];
  /** Run first after each test, passed or not: lets go of what a test holds. */
  const cleanups: (() => Promise<void>)[] = [];
  before(async function () { await requirePostgres(this); });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    await outbox?.close();
    outbox = undefined;
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });

  it('delivers 300 emails of 100 orders exactly once over three senders running at once, each order in id order', async () => {
    outbox = await sharedOutbox();
    const o = outbox;
    // Interleaved: order n's emails are n, 100 + n and 200 + n, so orders overlap all the way.
    for (const kind of ['placed', 'paid', 'dispatched']) for (let n = 1; n <= 100; n++) await o.enqueue(queued(`ORD-${n}`, kind));
    const log: { instance: number; messageId: string }[] = [];
    const senders = await Promise.all([0, 1, 2].map(async (instance) => {
      const peer = new SmtpPeer();
      peers.push(peer);
      peer.onMail = (mail) => { log.push({ instance, messageId: mail.messageId ?? '' }); return undefined; };
      const port = await peer.start();
      return o.sender(o.instance(`sender-${instance}`), smtpTransport(`smtp://127.0.0.1:${port}`, 'Atom Shop <orders@shop.example>'));
    }));
    await Promise.all(senders.map(async (s) => {
      for (let run = 0; run < 500 && (await o.store.counts()).unsent > 0; run++) { await s.sendPending(); await sleep(1); }
    }));
    senders.forEach((s) => s.close());

    const expected = (kinds: string[], orders: number[]) => orders.flatMap((n) => kinds.map((k) => `<order-ORD-${n}-${k}@shop.example>`));
    const all = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(log.map((d) => d.messageId).sort(), 'each exactly once').to.deep.equal(expected(['placed', 'paid', 'dispatched'], all).sort());
    for (const n of all) {
      expect(log.map((d) => d.messageId).filter((m) => m.startsWith(`<order-ORD-${n}-`)), `order ORD-${n}`).to.deep.equal(expected(['placed', 'paid', 'dispatched'], [n]));
    }
    expect(new Set(log.map((d) => d.instance)).size, 'the instances shared the work').to.be.greaterThan(1);
    expect(await o.store.outboxStates()).to.deep.include({ sent: 300, queued: 0, failed: 0, dead: 0, oldestUnsentAt: null });
    expect((await o.store.list(300)).every((e) => e.attempts === 1 && e.sentVia === 'smtp')).to.equal(true);
  });

  it("does not send an order's next email while another instance is trying its earlier one, but sends the other orders'", async () => {
    outbox = await sharedOutbox();
    const o = outbox;
    await o.enqueue(queued('ORD-X', 'placed'), queued('ORD-Y', 'placed'), queued('ORD-X', 'dispatched'), queued('ORD-Z', 'placed'));
    const log: Delivery[] = [];
    let holding!: () => void;
    const held = new Promise<void>((r) => { holding = r; });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const a = o.sender(o.instance('a'), recorder('A', log, { before: async (e) => { if (e.id === 1) { holding(); await released; } } }));
    const b = o.sender(o.instance('b'), recorder('B', log));

    const runA = a.sendPending();
    cleanups.push(async () => { release(); await runA.catch(() => undefined); });
    await held;
    expect(await b.sendPending()).to.deep.equal({ sent: 2, failed: 0, dead: 0 });
    expect(log.map((d) => `${d.instance}${d.id}`), "B skips X's first email (A holds it) and X's second (it must wait)").to.deep.equal(['B2', 'B4']);
    expect(await o.store.email(3)).to.include({ attempts: 0, sentAt: null });
    release();
    expect(await runA, 'once its first is sent, A goes on to its second in the same run').to.deep.equal({ sent: 2, failed: 0, dead: 0 });
    expect(log.map((d) => `${d.instance}${d.id}`)).to.deep.equal(['B2', 'B4', 'A1', 'A3']);
  });

  it('sends an email once more, with the same bytes and Message-ID, when the instance trying it loses its connection after delivering', async () => {
    outbox = await sharedOutbox();
    const o = outbox;
    await o.enqueue(queued('ORD-1', 'placed'), queued('ORD-2', 'placed'), queued('ORD-1', 'dispatched'), queued('ORD-3', 'placed'));
    const log: Delivery[] = [];
    const terminated: boolean[] = [];
    // As if its process were killed: the claim's backend goes, its transaction rolled back, right after the delivery.
    const crashing = o.sender(o.instance('crashing-sender'), recorder('A', log, {
      after: async () => {
        const { rows } = await o.pool.query<{ done: boolean }>(`SELECT pg_terminate_backend(pid, 5000) AS done FROM pg_stat_activity
          WHERE application_name = 'crashing-sender' AND state = 'idle in transaction'`);
        terminated.push(...rows.map((r) => r.done));
      },
    }));
    const error = await crashing.sendPending().then(() => undefined, (e: unknown) => e);
    expect(error, 'marking it sent failed').to.be.an('error');
    expect(terminated).to.deep.equal([true]);
    const stored = await o.store.email(1);
    expect(stored, 'still pending, charged nothing').to.include({ sentAt: null, deadAt: null, attempts: 0, lastError: null });
    expect(stored!.raw, 'its bytes were stored before the delivery').to.be.instanceOf(Buffer);

    const other = o.sender(o.instance('other-sender'), recorder('B', log));
    expect(await other.sendPending()).to.deep.equal({ sent: 4, failed: 0, dead: 0 });
    expect(log.map((d) => `${d.instance}${d.id}`)).to.deep.equal(['A1', 'B1', 'B2', 'B3', 'B4']);
    const [first, again] = log;
    expect(again!.raw.equals(first!.raw), 'the very same bytes').to.equal(true);
    expect(again!.raw.equals(stored!.raw!)).to.equal(true);
    expect(messageIdOf(again!.raw)).to.equal('<order-ORD-1-placed@shop.example>');
    expect(await o.store.outboxStates()).to.include({ sent: 4, queued: 0 });
    expect(await o.store.email(1)).to.include({ attempts: 1, sentVia: 'recorder' });
  });

  it('leaves an email another instance took in the moment its bytes were committed, so it is still sent once', async () => {
    outbox = await sharedOutbox();
    const o = outbox;
    await o.enqueue(queued('ORD-1', 'placed'));
    const log: Delivery[] = [];
    const b = o.sender(o.instance('b'), recorder('B', log));
    // A's first COMMIT is the one that stores the bytes: B runs right after it, before A locks the row again.
    const poolA = o.instance('a');
    let interleaved = false;
    const connect = poolA.connect.bind(poolA);
    poolA.connect = (async () => {
      const client = await connect();
      const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
      client.query = (async (text: string, values?: unknown[]) => {
        const result = await query(text, values);
        if (text === 'COMMIT' && !interleaved) { interleaved = true; await b.sendPending(); }
        return result;
      }) as typeof client.query;
      return client;
    }) as typeof poolA.connect;
    const a = o.sender(poolA, recorder('A', log));
    expect(await a.sendPending()).to.deep.equal({ sent: 0, failed: 0, dead: 0 });
    expect(interleaved).to.equal(true);
    expect(log.map((d) => `${d.instance}${d.id}`)).to.deep.equal(['B1']);
    expect(await o.store.email(1)).to.include({ attempts: 1, lastError: null });
  });

  describe('when a try fails, as on SQLite', () => {
    const clock = () => {
      let now = new Date('2025-06-10T09:00:00Z');
      return { now: () => now, tick: (ms: number) => { now = new Date(now.getTime() + ms); } };
    };
    const ids = (log: Delivery[]) => log.map((d) => d.id);

    it("tries a temporarily refused email again after its backoff, holding its order's next email back till then", async () => {
      outbox = await sharedOutbox();
      const o = outbox;
      await o.enqueue(queued('ORD-G', 'placed'), queued('ORD-G', 'dispatched'), queued('ORD-N', 'placed'));
      const log: Delivery[] = [];
      let refusals = 1;
      const { now, tick } = clock();
      const s = o.sender(o.instance('a'), recorder('A', log, { before: (e) => { if (e.id === 1 && refusals-- > 0) throw refuse(451, 'greylisted, try again later'); } }), { now });
      expect(await s.sendPending()).to.deep.equal({ sent: 1, failed: 1, dead: 0 });
      expect(ids(log)).to.deep.equal([3]);
      const [retrying] = await o.store.retrying();
      expect(retrying).to.include({ id: 1, attempts: 1, sentAt: null, deadAt: null, nextAttemptAt: '2025-06-10T09:00:30.000Z' });
      expect(retrying!.lastError).to.equal('greylisted, try again later');
      expect(await o.store.outboxStates()).to.deep.equal({ queued: 1, failed: 1, sent: 1, dead: 0, oldestUnsentAt: '2025-06-10T08:00:00.000Z' });
      tick(29_000);
      expect(await s.sendPending(), 'not due yet, and its order waits behind it').to.deep.include({ sent: 0 });
      tick(1_000);
      expect(await s.sendPending()).to.deep.equal({ sent: 2, failed: 0, dead: 0 });
      expect(ids(log)).to.deep.equal([3, 1, 2]);
      expect(await o.store.email(1)).to.include({ attempts: 2, lastError: null, sentAt: '2025-06-10T09:00:30.000Z' });
      expect(await o.store.counts()).to.deep.equal({ total: 3, unsent: 0 });
      expect(await o.store.enqueue(o.pool, queued('ORD-G', 'placed')), 'the same key is queued once').to.equal(false);
    });

    it('dead-letters a permanent refusal at once, lets its order go on, and sends it again with the same bytes once requeued', async () => {
      outbox = await sharedOutbox();
      const o = outbox;
      await o.enqueue(queued('ORD-X', 'placed'), queued('ORD-X', 'dispatched'), { ...queued('ORD-V', 'placed'), toAddress: 'ada@example..com' });
      const log: Delivery[] = [];
      let refuseFirst = true;
      const s = o.sender(o.instance('a'), recorder('A', log, { before: (e) => { if (e.id === 1 && refuseFirst) throw refuse(550, 'mailbox unavailable'); } }), clock());
      expect(await s.sendPending()).to.deep.equal({ sent: 1, failed: 0, dead: 2 });
      expect(ids(log), 'a dead letter holds nothing back').to.deep.equal([2]);
      const [dead, invalid] = await o.store.dead();
      expect(dead).to.include({ id: 1, attempts: 1, sentAt: null, deadAt: '2025-06-10T09:00:00.000Z' });
      expect(dead!.lastError).to.equal('permanent failure: mailbox unavailable');
      expect(invalid!.lastError).to.match(/^permanent failure: invalid recipient address/);
      const bytes = (await o.store.email(1))!.raw!;
      refuseFirst = false;
      expect(await s.sendPending(), 'dead until requeued').to.deep.include({ sent: 0 });
      expect(await o.store.requeue(1)).to.equal(true);
      expect(await s.sendPending()).to.deep.include({ sent: 1 });
      expect(log[1]!.raw.equals(bytes)).to.equal(true);
      expect(await o.store.requeue(1), 'a sent email is not requeued').to.equal(false);
      expect(await o.store.requeueDead()).to.deep.equal([3]);
      expect(await o.store.outboxStates()).to.include({ sent: 2, queued: 1, dead: 0 });
    });

    it('gives up on the emails queued too long ago while the mail server cannot be reached, the one it just tried included', async () => {
      outbox = await sharedOutbox();
      const o = outbox;
      await o.enqueue(queued('ORD-1', 'placed'), queued('ORD-2', 'placed'), queued('ORD-3', 'placed'), queued('ORD-4', 'placed', '2025-06-10T09:30:00.000Z'));
      const log: Delivery[] = [];
      let down = true;
      const { now, tick } = clock();
      const unreachable = () => { if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ESOCKET' }); };
      const s = o.sender(o.instance('a'), recorder('A', log, { before: unreachable }), { now, retry: { ...RETRY, maxAgeMs: 2 * 3_600_000 } });
      for (let minute = 0; minute < 85; minute++) { await s.sendPending(); tick(60_000); }
      const dead = await o.store.dead();
      expect(dead.map((e) => e.id), 'queued at 08:00: past 2 hours at the first try after 10:00').to.deep.equal([1, 2, 3]);
      expect(dead.every((e) => e.attempts === 0)).to.equal(true);
      expect(dead[0]!.lastError).to.match(/^gave up after 2 hours: mail server unreachable: connect ECONNREFUSED/);
      expect(await o.store.outboxStates()).to.include({ queued: 1, dead: 3 });
      down = false;
      tick(3_600_000);
      expect(await s.sendPending()).to.deep.equal({ sent: 1, failed: 0, dead: 0 });
      expect(ids(log)).to.deep.equal([4]);
    });
  });
});
