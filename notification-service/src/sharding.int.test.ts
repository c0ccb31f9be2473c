import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createLogger, type Db, listen, migrate, openDatabase, type RunningServer } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { request } from 'undici';
import { createApp } from './app.ts';
import { notificationMigrations } from './db/migrations.ts';
import { shardOf } from './domain/shard.ts';
import { buildNotificationService, type NotificationService } from './notificationService.ts';
import { sampleOrderIds } from './testing/orderIds.ts';
import { type ShopFeeds, startShopFeeds } from './testing/shopFeeds.ts';

/** One instance: its own temp DATA_DIR, database, consumers, outbox and HTTP port. */
interface Instance {
  readonly index: number;
  readonly dir: ReturnType<typeof tempDir>;
  readonly db: Db;
  readonly service: NotificationService;
  readonly http: RunningServer;
  readonly logLines: string[];
}

async function startInstance(feeds: ShopFeeds, index: number, count: number): Promise<Instance> {
  const dir = tempDir();
  const config = feeds.config(dir.path, { SHARD: `${index}/${count}`, VIEW_LINK_SECRET: 'one-secret-for-every-instance' });
  const db = openDatabase(config.dbFile);
  migrate(db, notificationMigrations);
  const logLines: string[] = [];
  const logger = createLogger({ service: 'notification-service' }, 'info', (l) => logLines.push(l));
  const service = buildNotificationService(db, config, { logger });
  const http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: config.mailFrom }), '127.0.0.1', 0);
  return { index, dir, db, service, http, logLines };
}

async function stopInstance(i: Instance): Promise<void> {
  await i.http.close();
  await i.service.stop();
  i.db.close();
  i.dir.remove();
}

describe('Two notification instances, SHARD=0/2 and SHARD=1/2, on the same real feeds', () => {
  let feeds: ShopFeeds;
  let instances: Instance[] = [];
  const ids = sampleOrderIds(40, 'two-instances');
  // A broken OrderPlaced (unusable email) for an order of shard 1: only its owner may park it.
  const broken = sampleOrderIds(20, 'broken').find((id) => shardOf(id, 2) === 1)!;
  const cancelled = ids.filter((_, i) => i % 10 === 7);
  const unpaid = ids.filter((_, i) => i % 13 === 12);
  const KINDS: readonly (readonly ('physical' | 'digital')[])[] = [['physical'], ['digital'], ['physical', 'digital']];
  const kindsOf = (i: number) => KINDS[i % 3]!;
  const dispatched = ids.filter((id, i) => kindsOf(i).includes('physical') && i % 4 === 0 && !cancelled.includes(id) && !unpaid.includes(id));
  const confirmed = ids.filter((id) => !cancelled.includes(id) && !unpaid.includes(id));
  const appended = { orders: 0, billing: 0, shipping: 0 };

  before(async function () {
    this.timeout(20_000);
    feeds = await startShopFeeds();
    instances = [await startInstance(feeds, 0, 2), await startInstance(feeds, 1, 2)];
    const cycleBoth = () => Promise.all(instances.map((i) => i.service.cycle()));
    feeds.place(broken, ['physical'], 'not-an-email');
    appended.orders++;
    // Batches of five orders, the parts of each batch arriving in a different order of the three
    // feeds, both instances polling between batches (concurrently, as two processes would).
    for (let b = 0; b < ids.length; b += 5) {
      const batch = ids.slice(b, b + 5);
      // A cancelled order is cancelled before its other parts are published (later, it would
      // rightly have been confirmed already).
      for (const id of batch.filter((x) => cancelled.includes(x))) {
        feeds.place(id, kindsOf(ids.indexOf(id))); feeds.cancel(id); appended.orders += 2;
      }
      const steps = [
        () => batch.filter((id) => !cancelled.includes(id)).forEach((id) => { feeds.place(id, kindsOf(ids.indexOf(id))); appended.orders++; }),
        () => batch.filter((id) => !unpaid.includes(id)).forEach((id) => { feeds.pay(id); appended.billing++; }),
        () => batch.forEach((id) => {
          const kinds = kindsOf(ids.indexOf(id));
          if (kinds.includes('physical')) { feeds.schedule(id); appended.shipping++; }
          if (kinds.includes('digital')) { feeds.digitalReady(id); appended.shipping++; }
        }),
      ];
      for (const step of (b / 5) % 2 === 0 ? steps : [...steps].reverse()) { step(); await cycleBoth(); }
    }
    for (const id of dispatched) { feeds.dispatch(id); appended.shipping++; }
    for (let n = 0; n < 3; n++) await cycleBoth();
  });
  after(async () => {
    await Promise.all(instances.map(stopInstance));
    await feeds.close();
  });

  const outboxOf = (i: Instance, kind: string) => i.service.store.list(10_000).filter((e) => e.kind === kind).map((e) => e.orderId);

  it('sends every paid, uncancelled order exactly one confirmation, from exactly the instance that owns it', () => {
    const [a, b] = instances.map((i) => outboxOf(i, 'confirmation')) as [string[], string[]];
    expect(a.length, 'each instance confirmed some orders').to.be.greaterThan(0);
    expect(b.length, 'each instance confirmed some orders').to.be.greaterThan(0);
    expect(a.filter((id) => b.includes(id)), 'overlap').to.deep.equal([]);
    expect([...a, ...b].sort(), 'union').to.deep.equal([...confirmed].sort());
    for (const id of ids) {
      const senders = instances.filter((i) => outboxOf(i, 'confirmation').includes(id)).map((i) => i.index);
      expect(senders, id).to.deep.equal(confirmed.includes(id) ? [shardOf(id, 2)] : []);
    }
  });

  it('sends each dispatch notice once, from the owner, and delivers every email to its own outbox', () => {
    const [a, b] = instances.map((i) => outboxOf(i, 'dispatched')) as [string[], string[]];
    expect([...a, ...b].sort()).to.deep.equal([...dispatched].sort());
    expect(a.every((id) => shardOf(id, 2) === 0) && b.every((id) => shardOf(id, 2) === 1)).to.equal(true);
    for (const i of instances) {
      const counts = i.service.store.counts();
      expect(counts.unsent).to.equal(0);
      expect(readdirSync(i.service.config.outboxDir).filter((f) => f.endsWith('.eml'))).to.have.length(counts.total);
    }
  });

  it('reads every entry of every feed in both instances, but writes state only for its own orders', () => {
    for (const i of instances) {
      expect(i.service.consumers.map((c) => [c.name, c.status().position]), `instance ${i.index}`)
        .to.deep.equal([['orders', appended.orders], ['billing', appended.billing], ['shipping', appended.shipping]]);
      const rows = i.db.prepare<[], { order_id: string }>('SELECT order_id FROM order_notifications').all().map((r) => r.order_id);
      expect(rows.sort()).to.deep.equal(ids.filter((id) => shardOf(id, 2) === i.index).sort());
    }
    // Each entry is someone's: what one instance passed over, the other acted on.
    const total = appended.orders + appended.billing + appended.shipping;
    expect(instances[0]!.service.handler.otherShardEntries + instances[1]!.service.handler.otherShardEntries).to.equal(total);
  });

  it("parks a broken entry in its owner only; the other instance reads past it", () => {
    expect(instances[1]!.service.consumer('orders')!.parked().map((p) => p.orderId)).to.deep.equal([broken]);
    expect(instances[0]!.service.consumer('orders')!.parked()).to.deep.equal([]);
  });

  it('shows its shard on GET /status, as JSON and as HTML', async () => {
    for (const i of instances) {
      const json = await request(`${i.http.url}/status`, { headers: { accept: 'application/json' } });
      const body = await json.body.json() as { shard: { id: string; index: number; count: number; otherShardEntriesSkipped: number } };
      expect(body.shard).to.deep.equal({ id: `${i.index}/2`, index: i.index, count: 2, otherShardEntriesSkipped: i.service.handler.otherShardEntries });
      const html = await (await request(`${i.http.url}/status`, { headers: { accept: 'text/html' } })).body.text();
      expect(html).to.include(`<title>Notification service, shard ${i.index}/2</title>`).and.include(`Shard <strong>${i.index}/2</strong>`);
    }
  });

  it('names its shard in every log line', () => {
    for (const i of instances) {
      const lines = i.logLines.map((l) => JSON.parse(l) as { shard?: string; msg: string });
      expect(lines.filter((l) => l.msg === 'email queued').length).to.be.greaterThan(0);
      expect(lines.filter((l) => l.shard !== `${i.index}/2`)).to.deep.equal([]);
    }
  });
});

describe('Starting an instance with a bad SHARD', () => {
  it('refuses to start: exit code 2 and the problem on stderr', function () {
    this.timeout(15_000);
    const dir = tempDir();
    try {
      const main = new URL('./main.ts', import.meta.url).pathname;
      const run = spawnSync(process.execPath, ['--import', 'tsx', main], {
        env: { ...process.env, SHARD: '2/2', DATA_DIR: dir.path, PORT: '0' }, encoding: 'utf8', timeout: 12_000,
      });
      expect(run.status).to.equal(2);
      expect(run.stderr).to.include('Invalid configuration').and.include('SHARD i must be from 0 to N-1');
      expect(readdirSync(dir.path), 'no database created').to.deep.equal([]);
    } finally {
      dir.remove();
    }
  });
});
