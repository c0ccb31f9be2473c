// Whole-system: real notification-service processes on one PostgreSQL database, sharing its 8
// partitions while orders flow through real feeds to a real SMTP peer. One instance is SIGKILLed,
// one joins, one leaves gracefully; every customer still gets each email exactly once.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { requirePostgres, tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { shardOf } from './domain/shard.ts';
import { OrderFlow } from './testing/orderFlow.ts';
import { sampleOrderIds } from './testing/orderIds.ts';
import { type InstanceStatus, killServiceProcesses, type ServiceProcess, startServiceProcess } from './testing/serviceProcess.ts';
import { type ShopFeeds, startShopFeeds } from './testing/shopFeeds.ts';
import { SmtpPeer } from './testing/smtpPeer.ts';

const PARTITIONS = 8;
/** How long the orders flow through each arrangement of instances once it has settled. */
const STAGE_MS = 3000;

/** An email as the SMTP peer received it, and when (performance.now()). */
interface Receipt { readonly messageId: string; readonly orderId: string; readonly kind: string; readonly at: number }
/** A line of an instance's JSON log. */
interface LogLine { readonly time: string; readonly instance: string; readonly msg: string; readonly orderId?: string; readonly kind?: string; readonly messageId?: string; readonly duplicate?: boolean }

async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 20_000, everyMs = 50): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const logged = (of: readonly ServiceProcess[], msg: string): LogLine[] =>
  of.flatMap((i) => i.lines).filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as LogLine);

/**
 * What is wrong with the partitions' ownership as `s` shows it, when exactly `live` run: every
 * partition owned by one of them, each holding its quota (floor or ceil of P/N), and the
 * instance answering working on exactly the partitions the database says it holds.
 */
function ownershipProblem(s: InstanceStatus, live: readonly string[]): string | undefined {
  const p = s.partitions;
  const shown = p.instances.map((i) => i.instance).sort();
  if (p.count !== PARTITIONS) return `count ${p.count}`;
  if (shown.join() !== [...live].sort().join()) return `instances ${shown.join()} (expected ${[...live].sort().join()})`;
  const unowned = p.owners.filter((o) => o.owner === null || !live.includes(o.owner));
  if (unowned.length > 0) return `partitions ${unowned.map((o) => `${o.partition}:${o.owner}`).join(' ')} not owned by a live instance`;
  const [lo, hi] = [Math.floor(PARTITIONS / live.length), Math.ceil(PARTITIONS / live.length)];
  for (const i of p.instances) {
    if (i.partitions.length < lo || i.partitions.length > hi) return `${i.instance} holds ${i.partitions.length} partitions (quota ${lo}..${hi})`;
    const owners = p.owners.filter((o) => o.owner === i.instance).map((o) => o.partition);
    if (owners.join() !== i.partitions.join()) return `${i.instance}: owners say ${owners.join()}, locks ${i.partitions.join()}`;
  }
  const locked = p.instances.find((i) => i.instance === s.instance)?.partitions ?? [];
  if (p.mine.join() !== locked.join()) return `${s.instance} works on ${p.mine.join()} but holds ${locked.join()}`;
  return undefined;
}

describe('Notification instances sharing one PostgreSQL database (real processes)', function () {
  this.timeout(180_000);
  let databaseUrl: string;
  let feeds: ShopFeeds;
  const smtp = new SmtpPeer();
  let smtpPort: number;
  const instances = new Map<string, ServiceProcess>();
  const dirs: { remove(): void }[] = [];
  const receipts: Receipt[] = [];
  let flow: OrderFlow | undefined;

  const start = async (name: string): Promise<ServiceProcess> => {
    const dir = tempDir(`notification-${name}-`);
    dirs.push(dir);
    const p = await startServiceProcess(name, {
      DATABASE_URL: databaseUrl, PARTITIONS: String(PARTITIONS), INSTANCE_NAME: name, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir.path,
      ORDER_FEED_URL: feeds.orders.feedUrl, BILLING_FEED_URL: feeds.billing.feedUrl, SHIPPING_FEED_URL: feeds.shipping.feedUrl,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, POLL_SCHEDULE: '200ms', LONG_POLL_SECONDS: '0', RETRY_BASE_MS: '0', MAX_ATTEMPTS: '3', LOG_LEVEL: 'info',
    });
    instances.set(name, p);
    return p;
  };

  /** Resolves once every one of `live` shows, in its /status, the partitions shared among exactly `live`. */
  const settled = async (live: readonly string[]): Promise<InstanceStatus[]> => {
    const statuses = await eventually(`the partitions shared among ${live.join(', ')}`, async () => {
      const all = await Promise.all(live.map((n) => instances.get(n)!.status())).catch(() => undefined);
      return all?.every((s) => ownershipProblem(s, live) === undefined) ? all : undefined;
    });
    for (const s of statuses) expect(ownershipProblem(s, live), `as ${s.instance} shows it`).to.equal(undefined);
    return statuses;
  };

  before(async function () {
    databaseUrl = await requirePostgres(this);
    feeds = await startShopFeeds();
    smtpPort = await smtp.start();
    smtp.onMail = (mail) => {
      const messageId = mail.messageId ?? '';
      const m = /^<order-(ORD-[0-9A-Z]+-[0-9A-Z]+)-([a-z-]+)@/.exec(messageId);
      receipts.push({ messageId, orderId: m?.[1] ?? '?', kind: m?.[2] ?? '?', at: performance.now() });
      return undefined;
    };
  });

  afterEach(function () {
    if (this.currentTest?.state === 'passed') return;
    for (const i of instances.values()) {
      const file = join(tmpdir(), `partitionedInstances-${process.pid}-${i.name}.log`);
      writeFileSync(file, `${i.lines.join('\n')}\n`);
      console.log(`--- ${i.name} (${i.exit() ? JSON.stringify(i.exit()) : 'running'}), whole log in ${file}:\n${i.tail(30)}`);
    }
  });

  after(async () => {
    await flow?.stop();
    await killServiceProcesses();
    await smtp.stop();
    await feeds?.close();
    for (const d of dirs) d.remove();
  });

  it('sends each paid order one confirmation and one dispatch notice, none twice, while an instance is killed, one joins and one leaves', async () => {
    const orders = new OrderFlow(feeds, sampleOrderIds(600, 'partitioned-instances'), { everyMs: 120, dispatchAfterMs: 1000 });
    flow = orders;

    // Three instances, n2 first (so it reads the three feeds until the others join), then n1 and n3
    // together; the orders begin to flow, the partitions are shared 3/3/2 and the feeds one each.
    const n2 = await start('n2');
    const [n1, n3] = await Promise.all(['n1', 'n3'].map(start)) as [ServiceProcess, ServiceProcess];
    orders.start();
    const three = await settled(['n1', 'n2', 'n3']);
    expect(three[0]!.partitions.instances.map((i) => i.partitions.length).sort()).to.deep.equal([2, 3, 3]);
    await eventually('the three feeds read one by each instance', async () => {
      const reads = await Promise.all([n1, n2, n3].map(async (n) => ((await n.status()) as InstanceStatus & { feeds: { readBy: string }[] }).feeds.filter((f) => f.readBy === 'this instance').length));
      return reads.every((r) => r === 1) || undefined;
    });
    await sleep(STAGE_MS);

    // SIGKILL n2: its PostgreSQL sessions end with it; n1 and n3 take its partitions and its feed.
    const n2Status = await n2.status() as InstanceStatus & { feeds: { name: string; readBy: string }[] };
    const n2Partitions = new Set(n2Status.partitions.mine);
    expect(n2Partitions.size).to.be.within(2, 3);
    const n2Reads = n2Status.feeds.filter((f) => f.readBy === 'this instance').map((f) => f.name);
    // Its feed stops being read with it, until a survivor takes its lock.
    expect(n2Reads).to.have.length(1);
    const killedAt = performance.now();
    const killedAtWall = Date.now();
    n2.signal('SIGKILL');
    const ownedAgainAt = await eventually('n1 and n3 to own all 8 partitions after n2 was killed', async () => {
      const s = await n1.status().catch(() => undefined);
      return s?.partitions.owners.every((o) => o.owner === 'n1' || o.owner === 'n3') ? performance.now() : undefined;
    });
    expect(await n2.exited).to.deep.equal({ code: null, signal: 'SIGKILL' });
    // Served again: the first email a survivor decided (its log line) for an order of n2's partitions reaches SMTP ...
    const firstServed = await eventually('an email of n2\'s partitions decided by n1 or n3', () => {
      const queued = new Map(logged([n1, n3], 'email queued')
        .filter((q) => q.duplicate === false && Date.parse(q.time) >= killedAtWall && n2Partitions.has(shardOf(q.orderId!, PARTITIONS)))
        .map((q) => [`<order-${q.orderId}-${q.kind}@shop.example>`, Date.parse(q.time) - killedAtWall]));
      const received = receipts.find((r) => queued.has(r.messageId));
      return received && { received, queuedMs: Math.min(...queued.values()) };
    });
    // ... and the first confirmation of an order of those partitions placed after the kill.
    const firstNew = await eventually('a confirmation of an order of n2\'s partitions placed after the kill', () =>
      receipts.find((r) => r.kind === 'confirmation' && n2Partitions.has(shardOf(r.orderId, PARTITIONS)) && orders.placedAt.get(r.orderId)! > killedAt));
    await settled(['n1', 'n3']);
    const ms = (at: number) => `${Math.round(at - killedAt)} ms`;
    console.log(`      takeover after SIGKILL of n2 (partitions ${[...n2Partitions].join(',')}): partitions owned again in ${ms(ownedAgainAt)}, `
      + `first email of a taken-over partition ${ms(firstServed.received.at)} (its new owner's first email there queued at ${firstServed.queuedMs} ms); `
      + `first confirmation of an order placed there after the kill ${ms(firstNew.at)} (placed at ${ms(orders.placedAt.get(firstNew.orderId)!)}); `
      + `outbox backlog at the kill ${n2Status.outbox.unsent}, feeds n2 read: ${n2Reads.join(',')}`);
    await sleep(STAGE_MS);

    // n4 joins: n1 and n3 hand it its share.
    const n4 = await start('n4');
    const joined = await settled(['n1', 'n3', 'n4']);
    expect(joined.find((s) => s.instance === 'n4')!.partitions.mine.length).to.be.within(2, 3);
    await sleep(STAGE_MS);

    // n1 leaves gracefully: it hands its partitions over and exits 0.
    const termAt = performance.now();
    n1.signal('SIGTERM');
    expect(await n1.exited).to.deep.equal({ code: 0, signal: null });
    const exitedAt = performance.now();
    await settled(['n3', 'n4']);
    console.log(`      graceful stop of n1: exited 0 in ${Math.round(exitedAt - termAt)} ms, partitions shared 4/4 by n3 and n4 ${Math.round(performance.now() - termAt)} ms after SIGTERM`);
    await sleep(STAGE_MS);

    // The orders stop; every email they are due must arrive.
    await orders.stop();
    expect(orders.ranOut, 'orders flowed until the end').to.equal(false);
    const expected = orders.expectedMessageIds().sort();
    await eventually(`all ${expected.length} expected emails`, () => (expected.every((m) => receipts.some((r) => r.messageId === m)) || undefined), 60_000, 200);
    const final = await eventually('the shared outbox to be empty', async () => { const s = await n3.status(); return s.outbox.unsent === 0 ? s : undefined; }, 10_000, 200);
    await sleep(1000); // a late second copy would arrive now
    const sentLog = logged([...instances.values()], 'email sent');
    console.log(`      ${orders.placedAt.size} orders (${orders.paid.length} paid, ${orders.dispatched.length} dispatched, ${orders.unpaid.length} unpaid), ${receipts.length} emails received; marked sent by `
      + ['n1', 'n2', 'n3', 'n4'].map((n) => `${n}: ${sentLog.filter((l) => l.instance === n).length}`).join(', '));

    // None twice, except one more copy of the email n2 was handing to SMTP when it was killed:
    // that copy arrived by the kill, n2 never marked it sent, a survivor sent it again (same Message-ID).
    const copies = new Map<string, Receipt[]>();
    for (const r of receipts) copies.set(r.messageId, [...copies.get(r.messageId) ?? [], r]);
    const doubled = [...copies.entries()].filter(([, c]) => c.length > 1);
    for (const [id, c] of doubled) {
      const marks = sentLog.filter((l) => l.messageId === id);
      console.log(`      received ${c.length} times: ${id}, at ${c.map((r) => ms(r.at)).join(' and ')} from the kill of n2; marked sent by ${marks.map((l) => `${l.instance} at ${Date.parse(l.time) - killedAtWall} ms`).join(', ') || 'nobody'}`);
    }
    expect(doubled.length, 'emails received more than once').to.be.at.most(1);
    for (const [, c] of doubled) {
      const [first, second] = c as [Receipt, Receipt];
      expect(c).to.have.length(2);
      // A claim is held for one try only: the first copy went out within a try's length of the kill.
      expect(first.at - killedAt, 'the first copy was on its way when n2 was killed').to.be.within(-2000, 500);
      expect(second.at).to.be.above(killedAt);
      expect(sentLog.filter((l) => l.messageId === first.messageId).map((l) => l.instance)).to.have.length(1).and.not.include('n2');
    }
    expect([...copies.keys()].sort()).to.deep.equal(expected);
    expect(receipts.filter((r) => orders.unpaid.includes(r.orderId)), 'emails of unpaid orders').to.deep.equal([]);
    for (const id of orders.dispatched) {
      const [confirmation, dispatch] = [copies.get(`<order-${id}-confirmation@shop.example>`)!, copies.get(`<order-${id}-dispatched@shop.example>`)!];
      expect(dispatch[0]!.at, `${id}: its dispatch notice after its confirmation`).to.be.above(confirmation[0]!.at);
    }
    expect(smtp.received.length).to.equal(receipts.length);
    expect(final.outbox).to.include({ total: expected.length, unsent: 0 });
    expect(final.outbox.deadLetters).to.deep.equal([]);
    expect(ownershipProblem(final, ['n3', 'n4'])).to.equal(undefined);
  });
});
