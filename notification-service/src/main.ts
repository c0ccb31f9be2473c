import { ConfigError, createLogger, listen, migrate, onShutdown, openDatabase } from '@shop/common';
import { createApp } from './app.ts';
import { readConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { buildNotificationService } from './notificationService.ts';

const logger = createLogger({ service: 'notification-service' });
let config;
try {
  config = readConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
const db = openDatabase(config.dbFile);
migrate(db, notificationMigrations);
const service = buildNotificationService(db, config, { logger });
const server = await listen(createApp({ service, logger, mailFrom: config.mailFrom }), config.host, config.port);
service.scheduler.start(config.schedule);
logger.info('listening', { url: server.url, feeds: config.feeds, schedule: config.schedule, mail: config.smtpUrl ? 'smtp' : config.outboxDir });
onShutdown(async () => {
  await server.close();
  await service.stop();
  db.close();
}, (msg) => logger.info(msg));
