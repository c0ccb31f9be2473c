import { createLogger, listen, migrate, openDatabase } from '@shop/common';
import { describeAccessControl, tempDir } from '@shop/common/testing';
import { createApp } from '../app.ts';
import { notificationMigrations } from '../db/migrations.ts';
import { buildNotificationService } from '../notificationService.ts';
import { startShopFeeds } from '../testing/shopFeeds.ts';

describeAccessControl({
  service: 'notification-service',
  start: async (env) => {
    const feeds = await startShopFeeds();
    const dir = tempDir();
    const config = feeds.config(dir.path, env);
    const db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    const logger = createLogger({}, 'silent');
    const service = buildNotificationService(db, config, { logger });
    const http = await listen(createApp({ service, logger, mailFrom: config.mailFrom }), '127.0.0.1', 0);
    return {
      url: http.url,
      close: async () => {
        await service.health.shutDown();
        await http.close();
        await service.stop();
        db.close();
        await feeds.close();
        dir.remove();
      },
    };
  },
  // Everything is a page for people: the status, every email, the templates, the metrics.
  pages: ['/status', '/emails', '/emails/1', '/templates', '/metrics', '/'],
  open: ['/healthz', '/readyz'],
  // The "view in your browser" links carry their own token: never an operator login.
  ownProtection: ['/view/order-ORD-X-confirmation?t=not-the-token'],
});
