import { createLogger, type Db, listen, migrate, openDatabase, type RunningServer } from '@shop/common';
import { call, expectProblem, scrapeMetrics, tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { createApp } from '../app.ts';
import { notificationMigrations } from '../db/migrations.ts';
import type { MailTransport } from '../mail/outboxSender.ts';
import { buildNotificationService, type NotificationService } from '../notificationService.ts';
import { type ShopFeeds, startShopFeeds } from '../testing/shopFeeds.ts';

describe('The notification service for operators', () => {
  let feeds: ShopFeeds;
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let service: NotificationService;
  let http: RunningServer;
  const delivered: string[] = [];
  // A mail server that refuses one customer's emails for good, and another's for now.
  const transport: MailTransport = {
    name: 'test',
    async deliver(email) {
      if (email.orderId === 'ORD-F') throw Object.assign(new Error('550 mailbox unavailable'), { responseCode: 550 });
      if (email.orderId === 'ORD-T') throw Object.assign(new Error('451 try again later'), { responseCode: 451 });
      delivered.push(email.orderId);
    },
    close() { /* nothing held */ },
  };

  beforeEach(async () => {
    feeds = await startShopFeeds();
    dir = tempDir();
    const config = feeds.config(dir.path);
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    service = buildNotificationService(db, config, { logger: createLogger({}, 'silent'), transport });
    http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: config.mailFrom }), '127.0.0.1', 0);
  });
  afterEach(async () => { await http.close(); await service.stop(); db.close(); await feeds.close(); dir.remove(); });

  it('answers /metrics with the outbox by state and the three subscriptions', async () => {
    const empty = await scrapeMetrics(http.url);
    for (const state of ['queued', 'failed', 'sent', 'dead']) expect(empty.value('notification_outbox_emails', { state }), state).to.equal(0);
    expect(empty.value('notification_outbox_oldest_unsent_age_seconds')).to.equal(0);

    for (const id of ['ORD-S', 'ORD-F', 'ORD-T']) { feeds.place(id); feeds.pay(id); feeds.schedule(id); }
    await service.cycle();
    expect(delivered).to.deep.equal(['ORD-S']);
    const m = await scrapeMetrics(http.url);
    expect(m.value('notification_outbox_emails', { state: 'sent' })).to.equal(1);
    expect(m.value('notification_outbox_emails', { state: 'failed' })).to.equal(1);
    expect(m.value('notification_outbox_emails', { state: 'queued' })).to.equal(0);
    expect(m.value('notification_outbox_emails', { state: 'dead' })).to.equal(1);
    expect(m.value('notification_outbox_oldest_unsent_age_seconds')).to.be.at.least(0);
    for (const subscription of ['orders', 'billing', 'shipping']) {
      expect(m.value('consumer_read_position', { subscription }), subscription).to.equal(3);
      expect(m.value('consumer_lag_entries', { subscription }), subscription).to.equal(0);
      expect(m.value('consumer_lag_seconds', { subscription }), subscription).to.equal(0);
      expect(m.value('consumer_last_success_timestamp_seconds', { subscription }), subscription).to.be.greaterThan(0);
      expect(m.value('consumer_parked_entries', { subscription }), subscription).to.equal(0);
    }
    expect(m.types.get('process_resident_memory_bytes')).to.equal('gauge');
    expect(m.types.has('feed_head_position'), 'it publishes no feed').to.equal(false);
  });

  it('counts its requests, and answers /healthz 200 and /readyz 200, then 503 once shutdown begins', async () => {
    await call('GET', `${http.url}/status`);
    expect((await call('GET', `${http.url}/healthz`)).status).to.equal(200);
    expect((await call('GET', `${http.url}/readyz`)).status).to.equal(200);
    await service.health.shutDown();
    expectProblem(await call('GET', `${http.url}/readyz`), 503, /shutting down/);
    const m = await scrapeMetrics(http.url);
    expect(m.value('http_requests_total', { route: '/status', method: 'GET', status: '200' })).to.equal(1);
    expect(m.value('http_requests_total', { route: '/readyz', method: 'GET', status: '503' })).to.equal(1);
  });
});
