import { join } from 'node:path';
import { expect } from 'chai';
import { type Db, migrate, openDatabase } from '../db/database.ts';
import { startTestFeedServer, type TestFeedServer } from '../testing/feedServer.ts';
import { tempDir } from '../testing/tempDir.ts';
import type { ConsumedEntry } from './atomReader.ts';
import { runConsumerCli } from './consumerCli.ts';
import { consumerMigrations } from './consumerStore.ts';
import { FeedConsumer } from './feedConsumer.ts';

describe('The consumer command line (runConsumerCli)', () => {
  let dir: ReturnType<typeof tempDir>;
  let orderFeed: TestFeedServer;
  let billingFeed: TestFeedServer;
  let db: Db;
  let orders: FeedConsumer;
  let billing: FeedConsumer;
  /** Orders the handlers cannot apply until a test "fixes" them. */
  let broken: Set<string>;

  const applied = () => db.prepare<[], { sub: string; order_id: string; type: string }>('SELECT sub, order_id, type FROM applied ORDER BY seq').all().map((r) => `${r.sub}:${r.order_id}:${r.type}`);
  const consumer = (name: string, feedUrl: string) => {
    const insert = db.prepare('INSERT INTO applied (sub, order_id, type) VALUES (?, ?, ?)');
    return new FeedConsumer(db, {
      name, feedUrl, onFailure: 'park', maxAttempts: 1, backoff: { baseMs: 0, maxMs: 0 },
      handler: (e: ConsumedEntry) => {
        if (broken.has(e.orderId)) throw new Error(`no customer record for ${e.orderId}`);
        insert.run(name, e.orderId, e.type);
      },
    });
  };
  const cli = (...args: string[]) => {
    const lines: string[] = [];
    const code = runConsumerCli(args, { consumers: [orders, billing], serviceName: 'test-service', out: (l) => lines.push(l), notes: { replayed: 'its invoice is issued', reset: 'nothing is applied twice' } });
    return { code, lines, text: lines.join('\n') };
  };

  beforeEach(async () => {
    dir = tempDir();
    orderFeed = await startTestFeedServer({ pageSize: 3 });
    billingFeed = await startTestFeedServer({ pageSize: 3 });
    db = openDatabase(join(dir.path, 'consumers.db'));
    migrate(db, consumerMigrations);
    db.exec('CREATE TABLE applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, sub TEXT NOT NULL, order_id TEXT NOT NULL, type TEXT NOT NULL)');
    broken = new Set(['ORD-BAD']);
    orders = consumer('orders', orderFeed.feedUrl);
    billing = consumer('billing', billingFeed.feedUrl);
    orderFeed.append({ orderId: 'ORD-OK1', type: 'OrderPlaced' });
    orderFeed.append({ orderId: 'ORD-BAD', type: 'OrderPlaced' });
    orderFeed.append({ orderId: 'ORD-BAD', type: 'OrderCancelled' }); // held behind the parked placement
    orderFeed.append({ orderId: 'ORD-OK2', type: 'OrderPlaced' });
    billingFeed.append({ orderId: 'ORD-OK1', type: 'PaymentReceived' });
    expect(await orders.pollOnce()).to.include({ kind: 'read', processed: 2, parked: 2, position: 4 });
    expect(await billing.pollOnce()).to.include({ kind: 'read', processed: 1, parked: 0, position: 1 });
  });
  afterEach(async () => {
    await orders.close();
    await billing.close();
    db.close();
    await orderFeed.close();
    await billingFeed.close();
    dir.remove();
  });

  it('lists each subscription with its position, newest entry seen and parked count', () => {
    const { code, lines } = cli('positions');
    expect(code).to.equal(0);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^orders {2}position 4 of 4 seen \(0 behind\), parked 2, last success \d{4}-\d\d-\d\dT/);
    expect(lines[0]).to.match(new RegExp(`  ${orderFeed.feedUrl}$`));
    expect(lines[1]).to.match(/^billing position 1 of 1 seen \(0 behind\), parked 0, /);
  });

  it('lists the parked entries, with the error and the one held behind, of all subscriptions or of one', () => {
    const [bad, held] = orders.parked();
    const all = cli('parked');
    expect(all.code).to.equal(0);
    expect(all.lines).to.have.length(2);
    expect(all.lines[0]).to.match(new RegExp(`^orders ${bad!.atomId} position 2 OrderPlaced order ORD-BAD \\(1 attempts, parked [^)]+\\): no customer record for ORD-BAD$`));
    expect(all.lines[1]).to.match(new RegExp(`^orders ${held!.atomId} position 3 OrderCancelled order ORD-BAD \\(0 attempts, .*\\): held behind ${bad!.atomId}`));
    expect(all.text).not.to.include('"payload"');
    expect(cli('parked', 'orders').lines).to.deep.equal(all.lines);
    expect(cli('parked', 'billing')).to.deep.include({ code: 0, lines: ['no parked entries in billing'] });
  });

  it('lists every parked entry however many there are (read 500 at a time), and counts them all in positions', async () => {
    orderFeed.db.transaction(() => {
      for (let i = 1; i <= 1001; i++) {
        broken.add(`ORD-MANY-${i}`);
        orderFeed.append({ orderId: `ORD-MANY-${i}`, type: 'OrderPlaced' });
      }
    })();
    expect(await orders.pollOnce()).to.include({ kind: 'read', parked: 1001, position: 1005 });
    const listed = cli('parked', 'orders');
    expect(listed.code).to.equal(0);
    expect(listed.lines).to.have.length(1003);
    expect(listed.lines.map((l) => Number(/ position (\d+) /.exec(l)?.[1]))).to.deep.equal([2, 3, ...Array.from({ length: 1001 }, (_, i) => 5 + i)]);
    expect(listed.text).not.to.include('"payload"');
    expect(cli('parked').lines).to.have.length(1003);
    expect(cli('positions').lines[0]).to.match(/^orders {2}position 1005 of 1005 seen \(0 behind\), parked 1003, /);
    // The last one, far beyond what /status shows, is replayed by its id.
    broken.delete('ORD-MANY-1001');
    const last = /^orders (\S+) position 1005 /.exec(listed.lines.at(-1)!)![1]!;
    expect(cli('replay', 'orders', last)).to.deep.include({ code: 0, lines: [`replayed ${last}; its invoice is issued`] });
    expect(cli('positions').lines[0]).to.include('parked 1002');
  });

  it('replays a parked entry once its handler is fixed, with the entries of its order held behind it, in feed order', () => {
    const atomId = orders.parked()[0]!.atomId;
    broken.delete('ORD-BAD');
    const r = cli('replay', 'orders', atomId);
    expect(r).to.deep.include({ code: 0, lines: [`replayed ${atomId} and 1 later entry of its order held behind it; its invoice is issued`] });
    expect(applied().filter((a) => a.includes('ORD-BAD'))).to.deep.equal(['orders:ORD-BAD:OrderPlaced', 'orders:ORD-BAD:OrderCancelled']);
    expect(orders.parked()).to.deep.equal([]);
    expect(cli('parked').lines).to.deep.equal(['no parked entries']);
    expect(cli('positions').lines[0]).to.include('parked 0');
  });

  it('answers a replay that fails with exit code 1 and the reason, and keeps the entry parked', () => {
    const [bad, held] = orders.parked();
    const still = cli('replay', 'orders', bad!.atomId);
    expect(still).to.deep.include({ code: 1, lines: ['not replayed: handler-failed: no customer record for ORD-BAD'] });
    expect(orders.parked().map((p) => [p.atomId, p.attempts])).to.deep.equal([[bad!.atomId, 2], [held!.atomId, 0]]);
    expect(cli('replay', 'orders', held!.atomId)).to.deep.include({ code: 1, lines: [`not replayed: earlier-entry-parked: replay ${bad!.atomId} (position 2) first`] });
    expect(cli('replay', 'billing', bad!.atomId)).to.deep.include({ code: 1, lines: ['not replayed: not-parked'] });
    expect(applied().some((a) => a.includes('ORD-BAD'))).to.equal(false);
  });

  it('resets one subscription, so that its next poll reads the feed again from the oldest archive', async () => {
    const r = cli('reset', 'billing');
    expect(r).to.deep.include({ code: 0, lines: ['billing will be read again from its oldest archive; nothing is applied twice'] });
    expect(billing.status().position).to.equal(0);
    expect(orders.status().position).to.equal(4);
    expect(cli('positions').lines[1]).to.match(/^billing position 0 of 1 seen \(1 behind\)/);
    billingFeed.requests.length = 0;
    expect(await billing.pollOnce()).to.include({ kind: 'read', processed: 1, position: 1 });
    expect(billingFeed.requests.map((q) => q.ifNoneMatch)).to.deep.equal([undefined]);
    expect(applied().filter((a) => a.startsWith('billing:'))).to.deep.equal(['billing:ORD-OK1:PaymentReceived', 'billing:ORD-OK1:PaymentReceived']);
  });

  it('refuses an unknown command or subscription, a missing or extra argument with exit code 2, the problem and the usage', () => {
    const atomId = orders.parked()[0]!.atomId;
    const cases: [string[], string][] = [
      [[], 'name a command'],
      [['replya', 'orders', atomId], 'unknown command "replya"'],
      [['replay'], 'name a subscription: one of orders, billing'],
      [['replay', 'ordres', atomId], 'unknown subscription "ordres": one of orders, billing'],
      [['replay', 'orders'], 'name the parked entry to replay (its id, as "parked" lists it)'],
      [['reset'], 'name a subscription: one of orders, billing'],
      [['reset', 'shipping'], 'unknown subscription "shipping": one of orders, billing'],
      [['parked', 'nope'], 'unknown subscription "nope": one of orders, billing'],
      [['positions', 'orders'], 'too many arguments for positions: "orders"'],
      [['reset', 'orders', 'now'], 'too many arguments for reset: "now"'],
    ];
    for (const [args, problem] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.text, args.join(' ')).to.match(new RegExp(`^${problem.replace(/[()]/g, '\\$&')}\\n\\nUsage: npm run cli -w test-service -- <command>\\n`));
      expect(r.text, args.join(' ')).to.include('Subscriptions: orders, billing.');
    }
    expect(orders.parked()).to.have.length(2);
    expect(orders.status().position).to.equal(4);
    const help = cli('help');
    expect(help.code).to.equal(0);
    expect(help.text).to.match(/^Usage: /).and.include('replay <subscription> <entry-id>');
  });
});
