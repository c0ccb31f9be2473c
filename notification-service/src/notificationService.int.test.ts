import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Db, migrate, openDatabase } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { simpleParser } from 'mailparser';
import { notificationMigrations } from './db/migrations.ts';
import { buildNotificationService, type NotificationService } from './notificationService.ts';
import { type ShopFeeds, startShopFeeds } from './testing/shopFeeds.ts';

const FEED_ORDERS = ['orders', 'billing', 'shipping'] as const;
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('The notification service against real feeds', () => {
  let feeds: ShopFeeds;
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let service: NotificationService;
  let outboxDir: string;

  beforeEach(async () => {
    feeds = await startShopFeeds();
    dir = tempDir();
    const config = feeds.config(dir.path);
    outboxDir = config.outboxDir;
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    service = buildNotificationService(db, config, { logger: createLogger({}, 'silent') });
  });
  afterEach(async () => { await service.stop(); db.close(); await feeds.close(); dir.remove(); });

  const emls = () => readdirSync(outboxDir).filter((f) => f.endsWith('.eml')).sort();
  const parse = (file: string) => simpleParser(readFileSync(join(outboxDir, file)));

  it('assembles one confirmation per paid order from parts that arrived in every order of the three feeds', async () => {
    const orderIds: string[] = [];
    for (const [i, sequence] of permutations(FEED_ORDERS).entries()) {
      const id = `ORD-P${i}`;
      orderIds.push(id);
      for (const feed of sequence) {
        if (feed === 'orders') feeds.place(id, ['physical', 'digital']);
        if (feed === 'billing') feeds.pay(id);
        if (feed === 'shipping') { feeds.digitalReady(id); feeds.schedule(id); }
        await service.cycle();
      }
    }
    await service.cycle();
    const files = emls();
    expect(files).to.have.length(6);
    for (const [i, file] of files.entries()) {
      const mail = await parse(file);
      const id = orderIds[i]!;
      const customer = feeds.entry(id, 'OrderPlaced').payload['customer'] as { name: string; email: string };
      expect(mail.subject).to.equal(`Your Atom Shop order ${id} is confirmed`);
      expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0]).to.deep.include({ address: customer.email, name: customer.name });
      expect(mail.headers.get('content-type')).to.deep.include({ value: 'multipart/alternative' });
      expect(mail.messageId).to.equal(`<order-${id}-confirmation@shop.example>`);
      // The services' sections (their real entries) dropped in as published.
      for (const type of ['OrderPlaced', 'PaymentReceived', 'ShipmentScheduled', 'DigitalDeliveryReady']) {
        const section = feeds.entry(id, type);
        expect(mail.html, type).to.include(section.contentXhtml);
        expect(mail.text, type).to.include(section.summary);
      }
      expect(mail.html).to.include(`Dear ${customer.name},`);
    }
    expect(service.store.counts()).to.deep.equal({ total: 6, unsent: 0 });
  });

  it('sends no confirmation for a cancelled order and an "on its way" email after a dispatch', async () => {
    feeds.place('ORD-C'); feeds.cancel('ORD-C'); feeds.pay('ORD-C'); feeds.schedule('ORD-C');
    feeds.dispatch('ORD-D'); feeds.place('ORD-D'); feeds.pay('ORD-D');
    await service.cycle();
    feeds.schedule('ORD-D');
    await service.cycle();
    const mails = await Promise.all(emls().map(parse));
    expect(mails.map((m) => m.subject)).to.deep.equal(['Your Atom Shop order ORD-D is confirmed', 'Your Atom Shop order ORD-D is on its way']);
    const dispatched = feeds.entry('ORD-D', 'ShipmentDispatched');
    expect(mails[1]!.text).to.include(`tracking number: ${String(dispatched.payload['trackingNumber'])}`).and.include(dispatched.summary);
    expect(mails[1]!.html).to.include(dispatched.contentXhtml);
    // The physical-only example's customer is called <script>alert(1)</script> & "Bob": text, never markup.
    const name = (feeds.entry('ORD-D', 'OrderPlaced').payload['customer'] as { name: string }).name;
    expect(name).to.include('<script>');
    expect(mails[0]!.text).to.include(`Dear ${name},`);
    expect(mails[0]!.html).to.include('Dear &lt;script&gt;alert(1)&lt;/script&gt; &amp; ');
    expect(mails[0]!.html).to.not.include('<script>');
  });

  it('confirms a digital-only order without waiting for a shipment', async () => {
    feeds.place('ORD-E', ['digital']); feeds.pay('ORD-E');
    await service.cycle();
    expect(emls()).to.deep.equal([]);
    feeds.digitalReady('ORD-E');
    await service.cycle();
    expect(emls()).to.have.length(1);
  });

  it('sends nothing twice after the feeds are read again from the start', async () => {
    feeds.place('ORD-F'); feeds.pay('ORD-F'); feeds.schedule('ORD-F'); feeds.dispatch('ORD-F');
    await service.cycle();
    expect(emls()).to.have.length(2);
    for (const c of service.consumers) c.resetPosition();
    await service.cycle();
    expect(service.consumers.map((c) => c.status().position)).to.deep.equal([1, 1, 2]);
    expect(service.store.counts()).to.deep.equal({ total: 2, unsent: 0 });
    expect(emls()).to.have.length(2);
  });

  it('parks an entry that breaks the contract, keeps serving other orders, and costs 304s when idle', async () => {
    feeds.place('ORD-BAD', ['physical'], 'not-an-email');
    feeds.place('ORD-G'); feeds.pay('ORD-G'); feeds.schedule('ORD-G');
    for (let i = 0; i < 5; i++) await service.cycle();
    expect(emls()).to.have.length(1);
    const parked = service.consumer('orders')!.status().parked;
    expect(parked.map((p) => p.orderId)).to.deep.equal(['ORD-BAD']);
    expect(parked[0]!.error).to.match(/not an email address/);
    for (const f of [feeds.orders, feeds.billing, feeds.shipping]) f.requests.length = 0;
    await service.cycle();
    const idle = [feeds.orders, feeds.billing, feeds.shipping].flatMap((f) => f.requests);
    expect(idle.map((r) => [r.path, r.status, r.bytes])).to.deep.equal([['/feed', 304, 0], ['/feed', 304, 0], ['/feed', 304, 0]]);
  });
});
