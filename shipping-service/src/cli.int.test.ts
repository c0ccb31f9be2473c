import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { FeedConsumer } from '@shop/common';
import { call, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { runCli } from './cli.ts';
import { type RunningShippingService, startShippingService } from './testing/startShippingService.ts';

interface StatusBody { subscriptions: { name: string; position: number; parked: Record<string, unknown>[] }[] }

const placedPayload = (orderId: string) => ({
  orderId, placedAt: '2025-06-06T08:59:00.000Z', customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, currency: 'GBP',
  lines: [{ sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, unitPrice: '12.50', lineTotal: '25.00', delivery: 'physical' }],
  subtotal: '25.00',
  shippingAddress: { line1: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
});

describe('The shipping command line (npm run cli -w shipping-service)', function () {
  this.timeout(20_000);
  let dir: ReturnType<typeof tempDir>;
  let orders: TestFeedServer;
  let billing: TestFeedServer;
  let svc: RunningShippingService;
  let env: Record<string, string>;

  async function pollTo(consumer: FeedConsumer, position: number): Promise<void> {
    for (let i = 0; i < 50 && consumer.status().position < position; i++) {
      if ((await consumer.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
    }
    expect(consumer.status().position).to.equal(position);
  }
  async function cli(...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await runCli(args, env, (l) => lines.push(l));
    return { code, lines };
  }
  const parkedOf = (consumer: FeedConsumer, orderId: string) => consumer.parked().find((p) => p.orderId === orderId)!.atomId;
  const status = async () => (await call('GET', `${svc.url}/status`)).json() as unknown as StatusBody;

  before(async () => {
    dir = tempDir();
    orders = await startTestFeedServer({ pageSize: 3 });
    billing = await startTestFeedServer({ pageSize: 3 });
    env = { DATA_DIR: join(dir.path, 'shipping'), ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl };
    svc = await startShippingService(env['DATA_DIR']!, { ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl });
    orders.append({ type: 'OrderPlaced', orderId: 'ORD-AAAAA-00001', payload: placedPayload('ORD-AAAAA-00001') });
    // An order entry shipping cannot read: parked for good.
    orders.append({ type: 'OrderPlaced', orderId: 'ORD-BROKEN', payload: { orderId: 'ORD-BROKEN', lines: [] } });
    await pollTo(svc.orderFeed, 2);
    // A fault of shipping's own database (say, a full disk) while it notes the payment: parked,
    // and replayable once the fault is gone.
    svc.db.exec("CREATE TRIGGER disk_full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'database or disk is full (simulated)'); END");
    billing.append({ type: 'PaymentReceived', orderId: 'ORD-AAAAA-00001', payload: { orderId: 'ORD-AAAAA-00001', invoiceId: 'INV-000001', total: '25.00', currency: 'GBP', paidAt: '2025-06-06T09:00:00.000Z' } });
    await pollTo(svc.billingFeed, 1);
    svc.db.exec('DROP TRIGGER disk_full');
  });
  after(async () => { await svc.close(); await orders.close(); await billing.close(); dir.remove(); });

  it('GET /status lists the parked entries of both subscriptions with their errors, without the entry bodies', async () => {
    const subs = (await status()).subscriptions;
    expect(subs.map((s) => [s.name, s.parked.map((p) => p['orderId'])])).to.deep.equal([['orders', ['ORD-BROKEN']], ['billing', ['ORD-AAAAA-00001']]]);
    expect(subs[0]!.parked[0]!['error']).to.match(/OrderPlaced .* is not valid/);
    expect(subs[1]!.parked[0]!['error']).to.match(/disk is full/);
    expect(subs.flatMap((s) => s.parked).every((p) => !('entry' in p))).to.equal(true);
  });

  it('lists the positions and the parked entries of both subscriptions, or of one', async () => {
    const positions = await cli('positions');
    expect(positions.code).to.equal(0);
    expect(positions.lines).to.have.length(2);
    expect(positions.lines[0]).to.match(/^orders {2}position 2 of 2 seen \(0 behind\), parked 1, /).and.include(orders.feedUrl);
    expect(positions.lines[1]).to.match(/^billing position 1 of 1 seen \(0 behind\), parked 1, /).and.include(billing.feedUrl);
    const all = await cli('parked');
    expect(all.code).to.equal(0);
    expect(all.lines).to.have.length(2);
    expect(all.lines[0]).to.include(`orders ${parkedOf(svc.orderFeed, 'ORD-BROKEN')} position 2 OrderPlaced order ORD-BROKEN`);
    const paymentLine = `billing ${parkedOf(svc.billingFeed, 'ORD-AAAAA-00001')} position 1 PaymentReceived order ORD-AAAAA-00001`;
    expect(all.lines[1]).to.include(paymentLine).and.match(/disk is full \(simulated\)$/);
    const one = await cli('parked', 'billing');
    expect(one.lines).to.have.length(1);
    expect(one.lines[0]).to.include(paymentLine);
  });

  it('replays the parked payment into a scheduled shipment and its feed entry, which the running service serves at once', async () => {
    const atomId = parkedOf(svc.billingFeed, 'ORD-AAAAA-00001');
    expect((await call('GET', `${svc.url}/shipments/ORD-AAAAA-00001`)).json()['shipment']).to.equal(null);
    const r = await cli('replay', 'billing', atomId);
    expect(r).to.deep.equal({ code: 0, lines: [`replayed ${atomId}; what it scheduled (and its entries on the shipping feed) is committed`] });
    expect((await call('GET', `${svc.url}/shipments/ORD-AAAAA-00001`)).json()['shipment']).to.deep.include({ status: 'scheduled' });
    expect((await call('GET', `${svc.url}/feed`)).body).to.include('term="ShipmentScheduled"').and.include('<shop:orderId>ORD-AAAAA-00001</shop:orderId>');
    expect((await status()).subscriptions.map((s) => s.parked.length)).to.deep.equal([1, 0]);
    expect((await cli('parked', 'billing')).lines).to.deep.equal(['no parked entries in billing']);
  });

  it('answers a replay that fails again with exit code 1 and the reason, and keeps the entry parked', async () => {
    const atomId = parkedOf(svc.orderFeed, 'ORD-BROKEN');
    const r = await cli('replay', 'orders', atomId);
    expect(r.code).to.equal(1);
    expect(r.lines).to.have.length(1);
    expect(r.lines[0]).to.match(/^not replayed: handler-failed: OrderPlaced .* is not valid/);
    expect(svc.orderFeed.parked().map((p) => p.orderId)).to.deep.equal(['ORD-BROKEN']);
    const wrongFeed = await cli('replay', 'billing', atomId);
    expect(wrongFeed).to.deep.equal({ code: 1, lines: ['not replayed: not-parked'] });
  });

  it('with DATABASE_URL reads PostgreSQL (see cliPg.int.test.ts), and exits 2 on a database it cannot reach', async () => {
    const lines: string[] = [];
    expect(await runCli(['positions'], { ...env, DATABASE_URL: 'postgres://shop@127.0.0.1:1/shipping' }, (l) => lines.push(l))).to.equal(2);
    expect(lines[0]).to.match(/^shipping-service: cannot open the database at DATABASE_URL: /);
  });

  it('refuses to run on a database that is not there (a DATA_DIR that is not the service\'s), creating none', async () => {
    const elsewhere = join(dir.path, 'nothing-here');
    const lines: string[] = [];
    expect(await runCli(['positions'], { DATA_DIR: elsewhere }, (l) => lines.push(l))).to.equal(2);
    expect(lines[0]).to.equal(`shipping-service: no database at ${join(elsewhere, 'shipping.db')}: set DATA_DIR as for the service`);
    expect(existsSync(join(elsewhere, 'shipping.db'))).to.equal(false);
  });
});
