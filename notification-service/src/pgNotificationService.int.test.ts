import { createLogger, listen, type RunningServer } from '@shop/common';
import { requirePostgres } from '@shop/common/testing';
import { expect } from 'chai';
import { request } from 'undici';
import { createApp } from './app.ts';
import { runCli } from './cli.ts';
import { sampleOrderIds } from './testing/orderIds.ts';
import { eventually, type PgInstance, startPgInstance } from './testing/pgInstance.ts';

describe('The notification service on PostgreSQL (DATABASE_URL), one instance', () => {
  let n: PgInstance;
  let http: RunningServer;
  const ids = sampleOrderIds(12, 'pg-one');
  const [broken] = sampleOrderIds(1, 'pg-broken');

  before(async function () {
    n = await startPgInstance(await requirePostgres(this), { PARTITIONS: '4', INSTANCE_NAME: 'solo', MAX_ATTEMPTS: '2', RETRY_BASE_MS: '0' });
    http = await listen(createApp({ service: n.service, logger: createLogger({}, 'silent'), mailFrom: n.service.config.mailFrom }), '127.0.0.1', 0);
  });

  after(async () => {
    await http?.close();
    await n?.close();
  });

  it('sends each paid order one confirmation and, once dispatched, one dispatch notice', async () => {
    n.feeds.place(broken!, ['physical'], 'not-an-email');
    for (const id of ids) { n.feeds.place(id); n.feeds.pay(id); n.feeds.schedule(id); }
    for (const id of ids.slice(0, 4)) n.feeds.dispatch(id);
    await eventually('16 emails', () => n.smtp.received.length >= 16 || undefined);
    await new Promise((r) => setTimeout(r, 500));
    const ofKind = (kind: string) => n.received(kind);
    expect(ofKind('confirmation')).to.have.length(12);
    expect(new Set(ofKind('confirmation')).size).to.equal(12);
    expect(ofKind('dispatched')).to.have.length(4);
  });

  it('shows in /status that this instance owns every partition, since when, and the shared outbox', async () => {
    const res = await request(`${http.url}/status`, { headers: { accept: 'application/json' } });
    const status = await res.body.json() as { instance: string; partitions: { count: number; mine: number[]; owners: { partition: number; owner: string; since: string }[] }; outbox: { sent: number }; feeds: { name: string; readBy: string; position: number }[] };
    expect(res.statusCode).to.equal(200);
    expect(status.instance).to.equal('solo');
    expect(status.partitions.count).to.equal(4);
    expect(status.partitions.mine).to.deep.equal([0, 1, 2, 3]);
    expect(status.partitions.owners.map((o) => o.owner)).to.deep.equal(['solo', 'solo', 'solo', 'solo']);
    expect(status.partitions.owners.every((o) => !Number.isNaN(Date.parse(o.since)))).to.equal(true);
    expect(status.outbox.sent).to.equal(16);
    expect(status.feeds.map((f) => f.readBy)).to.deep.equal(['this instance', 'this instance', 'this instance']);
    const page = await request(`${http.url}/status`, { headers: { accept: 'text/html' } });
    expect(await page.body.text()).to.include('Instance <strong>solo</strong>');
  });

  it('shows in /metrics which instance owns each partition and since when', async () => {
    const body = await (await request(`${http.url}/metrics`)).body.text();
    for (const p of [0, 1, 2, 3]) expect(body).to.match(new RegExp(`notification_partition_owned_since_seconds\\{partition="${p}",owner="solo"\\} \\d{10}`));
    expect(body).to.match(/notification_partitions_owned 4/);
    expect(body).to.match(/notification_instances 1/);
    expect(body).to.match(/notification_outbox_emails\{state="sent"\} 16/);
  });

  it('lists the entry a partition parked on the command line, and replays it there as its partition would', async () => {
    const lines: string[] = [];
    expect(await runCli(['parked', 'orders'], n.env, (l) => lines.push(l))).to.equal(0);
    const parkedLine = lines.join('\n');
    expect(parkedLine).to.include(broken);
    const { parked } = await n.service.store.parkedOfFeed('orders', 10);
    expect(parked.map((p) => [p.orderId, p.subscription])).to.deep.equal([[broken, `orders@${n.service.handler.partitionOf(broken!)}`]]);
    const atomId = parked[0]!.atomId;
    lines.length = 0;
    expect(await runCli(['positions'], n.env, (l) => lines.push(l))).to.equal(0);
    expect(lines.join('\n')).to.match(/orders/);
    lines.length = 0;
    // Still broken: the replay fails and says why; the entry stays parked.
    expect(await runCli(['replay', 'orders', atomId], n.env, (l) => lines.push(l)), lines.join('\n')).to.equal(1);
    lines.length = 0;
    expect(await runCli(['parked', 'orders'], n.env, (l) => lines.push(l))).to.equal(0);
    expect(lines.join('\n')).to.include(broken);
  });

  it('refuses PARTITIONS other than the database was set up with, naming both', async () => {
    const lines: string[] = [];
    expect(await runCli(['positions'], { ...n.env, PARTITIONS: '8' }, (l) => lines.push(l))).to.equal(2);
    expect(lines.join('\n')).to.match(/PARTITIONS=8.*4 partitions/);
  });
});

describe('The notification service on PostgreSQL, when a part is missing at its deadline', () => {
  let n: PgInstance;
  const [late] = sampleOrderIds(1, 'pg-late');

  before(async function () {
    n = await startPgInstance(await requirePostgres(this), { PARTITIONS: '2', MISSING_PART_AFTER_SECONDS: '1', ON_MISSING_PART: 'send-without' });
  });

  after(async () => { await n?.close(); });

  it('sends the confirmation without it once the deadline passes, reading only the orders due, then the part on its own', async () => {
    n.feeds.place(late!, ['physical', 'digital']);
    n.feeds.pay(late!);
    n.feeds.schedule(late!);
    await eventually('the confirmation', () => n.smtp.received.find((m) => String(m.messageId).includes('-confirmation@')));
    const due = await n.pg.pool.query<{ due_at: string | null; waiting: boolean }>('SELECT due_at, waiting FROM order_notifications WHERE order_id = $1', [late]);
    expect(due.rows).to.deep.equal([{ due_at: null, waiting: false }]);
    n.feeds.digitalReady(late!);
    await eventually('the follow-up', () => n.smtp.received.find((m) => String(m.messageId).includes('-followup-digital@')));
    expect(n.smtp.received).to.have.length(2);
  });
});

describe('The notification service on PostgreSQL, through database failures and a reset', () => {
  let n: PgInstance;
  const ids = sampleOrderIds(9, 'pg-faults');
  const confirmed = () => new Set(n.received('confirmation'));
  const order = (id: string) => { n.feeds.place(id); n.feeds.pay(id); n.feeds.schedule(id); };

  before(async function () {
    n = await startPgInstance(await requirePostgres(this), { PARTITIONS: '2', RETRY_BASE_MS: '50', RETRY_MAX_MS: '200' });
  });

  after(async () => { await n?.close(); });

  it('keeps working its partitions after its queries failed for a while, and shows the failure meanwhile', async () => {
    for (const id of ids.slice(0, 3)) order(id);
    await eventually('3 confirmations', () => confirmed().size === 3 || undefined);
    // The inbox is gone for a moment (as in a failover): every query on it fails, the feeds' and the partitions'.
    await n.pg.pool.query('ALTER TABLE notification_inbox RENAME TO notification_inbox_away');
    for (const id of ids.slice(3, 6)) order(id);
    const failing = await eventually('a partition showing its failure', () => n.service.workers().map((w) => w.status()).find((w) => w.failures > 0));
    expect(failing.lastError).to.match(/notification_inbox/);
    await n.pg.pool.query('ALTER TABLE notification_inbox_away RENAME TO notification_inbox');
    await eventually('6 confirmations', () => confirmed().size === 6 || undefined);
    expect(n.service.ownership.owned()).to.deep.equal([0, 1]);
  });

  it('reads a rebuilt feed from its start for every partition after `reset`, while it runs', async () => {
    await n.feeds.restartOrders();
    const lines: string[] = [];
    expect(await runCli(['reset', 'orders'], n.env, (l) => lines.push(l)), lines.join('\n')).to.equal(0);
    // The new feed's positions start at 1 again, below where every partition stood.
    for (const id of ids.slice(6)) order(id);
    await eventually('9 confirmations', () => confirmed().size === 9 || undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(n.received('confirmation')).to.have.length(9);
  });
});

describe('The notification service on PostgreSQL, with a long pause between quiet polls', () => {
  let n: PgInstance;
  const ids = sampleOrderIds(6, 'pg-woken');

  before(async function () {
    // A minute's pause: only the feeds' long polls and PostgreSQL's notifications can make it act sooner.
    n = await startPgInstance(await requirePostgres(this), { PARTITIONS: '2', POLL_SCHEDULE: '60s', LONG_POLL_SECONDS: '20' });
  });

  after(async () => { await n?.close(); });

  it('applies and sends orders placed back to back as their entries arrive, woken by notifications, never waiting out the pause', async () => {
    for (const id of ids) { n.feeds.place(id); n.feeds.pay(id); n.feeds.schedule(id); }
    await eventually('6 confirmations', () => n.received('confirmation').length === 6 || undefined, 15_000);
    expect(new Set(n.received('confirmation')).size).to.equal(6);
  });
});
