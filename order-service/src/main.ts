import { join } from 'node:path';
import { ConfigError, createLogger, listen, migrate, onShutdown, openDatabase, runPollLoop } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

const logger = createLogger({ service: 'order-service' });
try {
  const config = loadConfig();
  // DATABASE_URL moves all of the order service to PostgreSQL (the driver is loaded only then); else its SQLite file.
  const pg = config.databaseUrl === undefined ? undefined : await import('./pgApp.ts').then(async (m) => {
    const storage = await m.openOrderPg(config.databaseUrl!, { pageSize: config.feedPageSize, logger });
    const app = m.createPgApp({ config, logger }, storage);
    await app.shippingFeed.startLeading();
    return { storage, app };
  });
  const db = pg ? undefined : openDatabase(join(config.dataDir, 'orders.db'));
  if (db) migrate(db, migrations);
  const { handler, shippingFeed, ops } = pg?.app ?? createApp({ db: db!, config, logger });
  const server = await listen(handler, config.host, config.port);
  logger.info('listening', { url: server.url, feed: `${config.publicUrl}/feed`, shippingFeed: config.shippingFeedUrl, dataDir: config.dataDir, storage: pg ? 'postgresql' : 'sqlite' });
  // The order service starts before shipping: until shipping answers, the poll backs off and retries.
  const stopPolling = new AbortController();
  const polling = runPollLoop(shippingFeed, stopPolling.signal);
  onShutdown(async () => {
    // Not ready at once; after SHUTDOWN_DELAY long polls are answered, the poll and requests in flight finish.
    await ops.health.shutDown(config.shutdownDelaySeconds * 1000);
    stopPolling.abort();
    await polling;
    await shippingFeed.close();
    await server.close();
    await pg?.storage.close();
    db?.close();
  }, (msg) => logger.info(msg));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`order-service: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
