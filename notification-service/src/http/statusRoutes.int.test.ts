import { createLogger, type Db, listen, migrate, openDatabase, type RunningServer } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { request } from 'undici';
import { createApp } from '../app.ts';
import { runCli } from '../cli.ts';
import { notificationMigrations } from '../db/migrations.ts';
import { buildNotificationService, type NotificationService } from '../notificationService.ts';
import { type ShopFeeds, startShopFeeds } from '../testing/shopFeeds.ts';

describe('GET /status, GET /emails and the command line', () => {
  let feeds: ShopFeeds;
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let service: NotificationService;
  let http: RunningServer;
  let env: Record<string, string>;

  before(async () => {
    feeds = await startShopFeeds();
    dir = tempDir();
    env = { DATA_DIR: dir.path, ORDER_FEED_URL: feeds.orders.feedUrl, BILLING_FEED_URL: feeds.billing.feedUrl, SHIPPING_FEED_URL: feeds.shipping.feedUrl, RETRY_BASE_MS: '0', MAX_ATTEMPTS: '1' };
    const config = feeds.config(dir.path, env);
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    service = buildNotificationService(db, config, { logger: createLogger({}, 'silent') });
    http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: config.mailFrom }), '127.0.0.1', 0);
    feeds.place('ORD-H', ['physical'], 'broken'); // parked: not an email address
    feeds.place('ORD-I'); feeds.pay('ORD-I'); feeds.schedule('ORD-I');
    feeds.place('ORD-W', ['digital']); feeds.pay('ORD-W'); // waits for its download section
    await service.cycle();
  });
  after(async () => { await http.close(); await service.stop(); db.close(); await feeds.close(); dir.remove(); });

  const get = async (path: string, accept: string) => {
    const res = await request(`${http.url}${path}`, { headers: { accept } });
    return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
  };

  it('shows per feed the read position, newest seen, last success, errors and parked entries as JSON', async () => {
    const res = await get('/status', 'application/json');
    expect(res.status).to.equal(200);
    const body = JSON.parse(res.text) as { feeds: { name: string; position: number; newestSeen: number; behind: number; lastSuccessAt: string | null; parked: { orderId: string }[] }[]; waitingOrders: { orderId: string; missing: string[]; readySince: string | null }[] };
    expect(body.feeds.map((f) => [f.name, f.position, f.newestSeen, f.behind])).to.deep.equal([['orders', 3, 3, 0], ['billing', 2, 2, 0], ['shipping', 1, 1, 0]]);
    expect(body.feeds.every((f) => f.lastSuccessAt !== null)).to.equal(true);
    expect(body.feeds[0]!.parked.map((p) => p.orderId)).to.deep.equal(['ORD-H']);
    expect(body.waitingOrders).to.deep.equal([{ orderId: 'ORD-W', missing: ['digital'], readySince: body.waitingOrders[0]!.readySince, overdue: false }]);
  });

  it('shows the same as an HTML page in a browser', async () => {
    const res = await get('/status', 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8');
    expect(res.type).to.match(/^text\/html/);
    expect(res.text).to.include('Parked entries').and.include('ORD-H').and.include('not an email address');
  });

  it('lists the emails sent and shows each one in a browser', async () => {
    const list = await get('/emails', 'text/html');
    expect(list.text).to.include('Your Atom Shop order ORD-I is confirmed').and.include('href="/emails/1"');
    const json = JSON.parse((await get('/emails', 'application/json')).text) as { emails: { id: number; orderId: string; sentAt: string | null }[] };
    expect(json.emails.map((e) => e.orderId)).to.deep.equal(['ORD-I']);
    expect(json.emails[0]!.sentAt).to.be.a('string');
    const one = await get('/emails/1', 'text/html');
    expect(one.type).to.match(/^text\/html/);
    expect(one.text).to.include('ORD-I').and.include(feeds.entry('ORD-I', 'PaymentReceived').contentXhtml);
    expect((await get('/emails/1/raw', '*/*')).text).to.match(/Message-ID: <order-ORD-I-confirmation@shop\.example>/);
    expect((await get('/emails/99', 'text/html')).status).to.equal(404);
  });

  it('prints positions, and replays a parked entry from the command line', async () => {
    const lines: string[] = [];
    expect(await runCli(['positions'], env, (l) => lines.push(l))).to.equal(0);
    expect(lines[0]).to.match(/^orders\s+position 3 of 3 seen \(0 behind\), parked 1/);
    const atomId = service.consumer('orders')!.parked()[0]!.atomId;
    lines.length = 0;
    expect(await runCli(['replay', 'orders', atomId], env, (l) => lines.push(l))).to.equal(1);
    expect(lines[0]).to.match(/not replayed: handler-failed: .*not an email address/);
    expect(await runCli(['replay', 'orders', 'urn:uuid:nope'], env, (l) => lines.push(l))).to.equal(1);
    expect(lines[1]).to.equal('not replayed: not-parked');
    lines.length = 0;
    expect(await runCli(['parked'], env, (l) => lines.push(l))).to.equal(0);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include(atomId);
    expect(await runCli(['replay', 'ordres', atomId], env, (l) => lines.push(l))).to.equal(2);
    expect(lines[1]).to.match(/^unknown subscription "ordres": one of orders, billing, shipping/);
  });

  it('resets a feed to the start from the command line', async () => {
    const lines: string[] = [];
    expect(await runCli(['reset', 'billing'], env, (l) => lines.push(l))).to.equal(0);
    expect(service.consumer('billing')!.status().position).to.equal(0);
    await service.cycle();
    expect(service.consumer('billing')!.status().position).to.equal(2);
    expect(service.store.counts().total).to.equal(1);
  });
});
