/**
 * The notification service in a child process for crash tests. It SIGKILLs itself at a chosen
 * step: `queued` (an email is in the outbox, the transaction not yet committed) or `delivered`
 * (the .eml is written, the outbox row not yet marked sent); `never` runs until caught up.
 * Usage: crashingService.ts <data dir> <orders url> <billing url> <shipping url> <queued|delivered|never>
 */
import { createLogger, migrate, openDatabase } from '@shop/common';
import { readConfig } from '../config.ts';
import { notificationMigrations } from '../db/migrations.ts';
import { buildNotificationService } from '../notificationService.ts';

const [dataDir, orders, billing, shipping, killAt] = process.argv.slice(2) as [string, string, string, string, string];
const config = readConfig({ DATA_DIR: dataDir, ORDER_FEED_URL: orders, BILLING_FEED_URL: billing, SHIPPING_FEED_URL: shipping, RETRY_BASE_MS: '0', LONG_POLL_SECONDS: '0' });
const db = openDatabase(config.dbFile);
migrate(db, notificationMigrations);
const service = buildNotificationService(db, config, {
  logger: createLogger({}, 'silent'),
  afterDeliver: () => { if (killAt === 'delivered') process.kill(process.pid, 'SIGKILL'); },
});
const enqueue = service.store.enqueue.bind(service.store);
service.store.enqueue = (email) => {
  const fresh = enqueue(email);
  if (killAt === 'queued') process.kill(process.pid, 'SIGKILL');
  return fresh;
};
for (let i = 0; i < 3; i++) await service.cycle();
await service.stop();
db.close();
