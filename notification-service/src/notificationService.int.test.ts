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
      expect(mail.subject).to.equal(`Your Atom Shop order ${id} is confirmed`);
      expect(mail.to && !Array.isArray(mail.to) && mail.to.value[0]).to.deep.include({ address: 'ada@example.com', name: 'Ada <Lovelace>' });
      expect(mail.headers.get('content-type')).to.deep.include({ value: 'multipart/alternative' });
      expect(mail.messageId).to.equal(`<order-${id}-confirmation@shop.example>`);
      // The services' sections dropped in as published; the customer's name escaped.
      expect(mail.html).to.include(`Paid <strong>€12.50</strong> by card, invoice INV-${id}.`);
      expect(mail.html).to.include('Ships within <em>2 working days</em>.');
      expect(mail.html).to.include('<a href="https://shop.example/dl/abc">Download your ebook</a>');
      expect(mail.html).to.include('Dear Ada &lt;Lovelace&gt;,');
      expect(mail.text).to.include(`Paid 12.50 EUR by card (invoice INV-${id}).`);
      expect(mail.text).to.include('Download: https://shop.example/dl/abc');
      expect(mail.text).to.include('Dear Ada <Lovelace>,');
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
    expect(mails[1]!.text).to.include('tracking number: 00340434');
    expect(mails[1]!.html).to.include('<p class="dispatch">Handed to DHL.</p>');
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
