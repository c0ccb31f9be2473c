import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Db, migrate, openDatabase } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { simpleParser } from 'mailparser';
import { notificationMigrations } from './db/migrations.ts';
import { buildNotificationService, type NotificationService } from './notificationService.ts';
import { type ShopFeeds, startShopFeeds } from './testing/shopFeeds.ts';

describe('A part that arrives after a confirmation sent without it (ON_MISSING_PART=send-without)', () => {
  let feeds: ShopFeeds;
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let service: NotificationService;
  let outboxDir: string;
  let now: Date;

  beforeEach(async () => {
    feeds = await startShopFeeds();
    dir = tempDir();
    now = new Date('2025-06-10T09:00:00Z');
    const config = feeds.config(dir.path, { ON_MISSING_PART: 'send-without', MISSING_PART_AFTER_SECONDS: '900' });
    outboxDir = config.outboxDir;
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    service = buildNotificationService(db, config, { logger: createLogger({}, 'silent'), now: () => now });
  });
  afterEach(async () => { await service.stop(); db.close(); await feeds.close(); dir.remove(); });

  const mails = () => Promise.all(readdirSync(outboxDir).filter((f) => f.endsWith('.eml')).sort().map((f) => simpleParser(readFileSync(join(outboxDir, f)))));

  it('sends the late download section once as a short follow-up, then the dispatch notice', async () => {
    feeds.place('ORD-L', ['physical', 'digital']); feeds.pay('ORD-L'); feeds.schedule('ORD-L');
    await service.cycle();
    expect(await mails()).to.deep.equal([]);
    now = new Date(now.getTime() + 900_000);
    await service.cycle();
    const [confirmation] = await mails();
    expect(confirmation!.subject).to.equal('Your Atom Shop order ORD-L is confirmed');
    expect(confirmation!.text).to.include('Your delivery details are not ready yet');

    feeds.digitalReady('ORD-L');
    await service.cycle();
    const digital = feeds.entry('ORD-L', 'DigitalDeliveryReady');
    const followUp = (await mails())[1]!;
    expect(followUp.subject).to.equal('Your Atom Shop order ORD-L: your downloads are ready');
    expect(followUp.messageId).to.equal('<order-ORD-L-followup-digital@shop.example>');
    expect(followUp.headers.get('x-shop-email-kind')).to.equal('followup');
    expect(followUp.html).to.include(digital.contentXhtml);
    expect(followUp.text).to.include(digital.summary).and.include('ORD-L');
    // Short: the follow-up carries the late part, not the whole order again.
    expect(followUp.text).to.not.include(feeds.entry('ORD-L', 'PaymentReceived').summary);

    feeds.dispatch('ORD-L');
    for (const c of service.consumers) c.resetPosition(); // every entry again: nothing twice
    await service.cycle();
    expect((await mails()).map((m) => m.subject)).to.deep.equal([
      'Your Atom Shop order ORD-L is confirmed',
      'Your Atom Shop order ORD-L: your downloads are ready',
      'Your Atom Shop order ORD-L is on its way',
    ]);
    expect(service.store.counts()).to.deep.equal({ total: 3, unsent: 0 });
  });

  it('sends a late shipment section as its own follow-up, before the dispatch notice read with it', async () => {
    feeds.place('ORD-M'); feeds.pay('ORD-M');
    await service.cycle();
    now = new Date(now.getTime() + 900_000);
    await service.cycle();
    feeds.schedule('ORD-M'); feeds.dispatch('ORD-M');
    await service.cycle();
    await service.cycle();
    const all = await mails();
    expect(all.map((m) => m.subject)).to.deep.equal([
      'Your Atom Shop order ORD-M is confirmed',
      'Your Atom Shop order ORD-M: your delivery details',
      'Your Atom Shop order ORD-M is on its way',
    ]);
    expect(all[1]!.html).to.include(feeds.entry('ORD-M', 'ShipmentScheduled').contentXhtml);
    expect(all[1]!.messageId).to.equal('<order-ORD-M-followup-shipment@shop.example>');
  });
});
