import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { call, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { runCli } from './cli.ts';
import { type RunningBillingService, orderPlacedPayload, startBillingService } from './testing/startBillingService.ts';

interface StatusBody { subscriptions: { name: string; position: number; parked: Record<string, unknown>[] }[] }

describe('The billing command line (npm run cli -w billing-service)', function () {
  this.timeout(20_000);
  let dir: ReturnType<typeof tempDir>;
  let orders: TestFeedServer;
  let svc: RunningBillingService;
  let env: Record<string, string>;

  const place = (orderId: string, over: Record<string, unknown> = {}) => orders.append({ type: 'OrderPlaced', typeLabel: 'Order placed', orderId, payload: orderPlacedPayload(orderId, over) });
  async function pollTo(position: number): Promise<void> {
    for (let i = 0; i < 50 && svc.orderFeed.status().position < position; i++) {
      if ((await svc.orderFeed.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
    }
    expect(svc.orderFeed.status().position).to.equal(position);
  }
  async function cli(...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await runCli(args, env, (l) => lines.push(l));
    return { code, lines };
  }
  const parkedOf = (orderId: string) => svc.orderFeed.parked().find((p) => p.orderId === orderId)!.atomId;
  const parkedOnStatus = async () => ((await call('GET', `${svc.url}/status`)).json() as unknown as StatusBody).subscriptions[0]!.parked;

  before(async () => {
    dir = tempDir();
    orders = await startTestFeedServer({ pageSize: 3 });
    env = { DATA_DIR: join(dir.path, 'billing'), ORDER_FEED_URL: orders.feedUrl };
    svc = await startBillingService(env['DATA_DIR']!, { ORDER_FEED_URL: orders.feedUrl });
    place('ORD-AAAAA-00001');
    await pollTo(1);
    // A fault of billing's own database (say, a full disk) while it invoices the second order:
    // the entry is parked, and can be replayed once the fault is gone.
    svc.db.exec("CREATE TRIGGER disk_full BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'database or disk is full (simulated)'); END");
    place('ORD-AAAAA-00002');
    await pollTo(2);
    svc.db.exec('DROP TRIGGER disk_full');
    // And one that cannot be invoiced at all: its destination is not a country.
    place('ORD-AAAAA-00003', { shippingAddress: { line1: 'Cair Paravel', city: 'Narnia', postalCode: '1', country: 'Narnia' } });
    await pollTo(3);
  });
  after(async () => { await svc.close(); await orders.close(); dir.remove(); });

  it('GET /status lists the parked entries with their errors, without the entry bodies', async () => {
    const parked = await parkedOnStatus();
    expect(parked.map((p) => p['orderId'])).to.deep.equal(['ORD-AAAAA-00002', 'ORD-AAAAA-00003']);
    expect(parked[0]!['error']).to.match(/disk is full/);
    expect(parked[1]!['error']).to.match(/not an ISO 3166-1 alpha-2 country code/);
    expect(parked.every((p) => !('entry' in p))).to.equal(true);
  });

  it('lists the position and the parked entries of the order feed subscription', async () => {
    const positions = await cli('positions');
    expect(positions.code).to.equal(0);
    expect(positions.lines).to.have.length(1);
    expect(positions.lines[0]).to.match(/^orders position 3 of 3 seen \(0 behind\), parked 2, /).and.include(orders.feedUrl);
    const [full, pl] = svc.orderFeed.parked();
    const parked = await cli('parked');
    expect(parked.code).to.equal(0);
    expect(parked.lines).to.have.length(2);
    expect(parked.lines[0]).to.include(`orders ${full!.atomId} position 2 OrderPlaced order ORD-AAAAA-00002`).and.match(/disk is full \(simulated\)$/);
    expect(parked.lines[1]).to.include(`orders ${pl!.atomId} position 3`).and.match(/not an ISO 3166-1 alpha-2 country code/);
  });

  it('replays a parked order into an invoice and its billing feed entry, which the running service serves at once', async () => {
    const atomId = parkedOf('ORD-AAAAA-00002');
    expect((await call('GET', `${svc.url}/invoices/ORD-AAAAA-00002`)).status).to.equal(404);
    const r = await cli('replay', 'orders', atomId);
    expect(r).to.deep.equal({ code: 0, lines: [`replayed ${atomId}; its invoice (and entry on the billing feed) is committed`] });
    const invoice = await call('GET', `${svc.url}/invoices/ORD-AAAAA-00002`);
    expect(invoice.status).to.equal(200);
    expect(invoice.json()).to.deep.include({ invoiceId: 'INV-000002', status: 'issued' });
    expect((await call('GET', `${svc.url}/feed`)).body).to.include('<shop:orderId>ORD-AAAAA-00002</shop:orderId>');
    expect((await parkedOnStatus()).map((p) => p['orderId'])).to.deep.equal(['ORD-AAAAA-00003']);
    expect((await cli('parked')).lines).to.have.length(1);
  });

  it('answers a replay that fails again with exit code 1 and the reason, and keeps the entry parked', async () => {
    const atomId = parkedOf('ORD-AAAAA-00003');
    const r = await cli('replay', 'orders', atomId);
    expect(r.code).to.equal(1);
    expect(r.lines).to.have.length(1);
    expect(r.lines[0]).to.match(/^not replayed: handler-failed: Cannot invoice order ORD-AAAAA-00003: .*not an ISO 3166-1 alpha-2 country code/);
    expect(svc.orderFeed.parked().map((p) => p.orderId)).to.include('ORD-AAAAA-00003');
    const typo = await cli('replay', 'order', atomId);
    expect(typo.code).to.equal(2);
    expect(typo.lines[0]).to.match(/^unknown subscription "order": one of orders\n\nUsage: npm run cli -w billing-service -- <command>/);
  });

  it('with DATABASE_URL reads PostgreSQL (see cliPg.int.test.ts), and exits 2 on a database it cannot reach', async () => {
    const lines: string[] = [];
    expect(await runCli(['positions'], { ...env, DATABASE_URL: 'postgres://shop@127.0.0.1:1/billing' }, (l) => lines.push(l))).to.equal(2);
    expect(lines[0]).to.match(/^billing-service: cannot open the database at DATABASE_URL: /);
  });

  it('refuses to run on a database that is not there (a DATA_DIR that is not the service\'s), creating none', async () => {
    const elsewhere = join(dir.path, 'nothing-here');
    const lines: string[] = [];
    expect(await runCli(['positions'], { DATA_DIR: elsewhere }, (l) => lines.push(l))).to.equal(2);
    expect(lines[0]).to.equal(`billing-service: no database at ${join(elsewhere, 'billing.db')}: set DATA_DIR as for the service`);
    expect(existsSync(join(elsewhere, 'billing.db'))).to.equal(false);
  });
});
