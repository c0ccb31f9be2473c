import { join } from 'node:path';
import { ConfigError, createLogger, listen, migrate, onShutdown, openDatabase, runPollLoop } from '@shop/common';
import { createApp } from './app.ts';
import { dispatchDue, dispatchDuePg } from './autoDispatch.ts';
import { loadConfig } from './config.ts';

import { migrations } from './db/migrations.ts';

const logger = createLogger({ service: 'shipping-service' });
try {
  const config = loadConfig();
  // DATABASE_URL moves all of shipping to PostgreSQL (the driver is loaded only then); else its SQLite file.
  const pg = config.databaseUrl === undefined ? undefined : await import('./pgApp.ts').then(async (m) => {
    const storage = await m.openShippingPg(config.databaseUrl!, { pageSize: config.feedPageSize, logger, linkSecret: config.downloadLinkSecret });
    const app = m.createPgApp({ config, logger }, storage);
    await Promise.all([app.orderFeed.startLeading(), app.billingFeed.startLeading()]);
    return { storage, app };
  });
  const db = pg ? undefined : openDatabase(join(config.dataDir, 'shipping.db'));
  if (db) migrate(db, migrations);
  const sqlite = db ? createApp({ db, config, logger }) : undefined;
  const { handler, orderFeed, billingFeed, ops } = pg?.app ?? sqlite!;
  const server = await listen(handler, config.host, config.port);
  logger.info('listening', {
    url: server.url, feed: `${config.publicUrl}/feed`, orderFeed: config.orderFeedUrl, billingFeed: config.billingFeedUrl,
    autoDispatch: config.autoDispatch ? `${config.autoDispatchDelaySeconds}s` : false, storage: pg ? 'postgresql' : 'sqlite', dataDir: config.dataDir,
  });
  const stop = new AbortController();
  const polling = Promise.all([runPollLoop(orderFeed, stop.signal), runPollLoop(billingFeed, stop.signal)]);
  // A timer, not a loop; on PostgreSQL a tick still running skips the next.
  let dispatching: Promise<unknown> | undefined;
  const dispatcher = config.autoDispatch
    ? setInterval(() => {
      if (sqlite) {
        try { dispatchDue(sqlite.shipping, new Date(), config.autoDispatchDelaySeconds, logger); } catch (err) { logger.error('auto-dispatch failed', { err }); }
      } else if (pg && !dispatching) {
        dispatching = dispatchDuePg(pg.app.shipping, new Date(), config.autoDispatchDelaySeconds, logger)
          .catch((err: unknown) => logger.error('auto-dispatch failed', { err }))
          .finally(() => { dispatching = undefined; });
      }
    }, 1000)
    : undefined;
  onShutdown(async () => {
    // Not ready at once; after SHUTDOWN_DELAY long polls are answered, the polls and requests in flight finish.
    await ops.health.shutDown(config.shutdownDelaySeconds * 1000);
    clearInterval(dispatcher);
    await dispatching;
    stop.abort();
    await polling;
    await Promise.all([orderFeed.close(), billingFeed.close()]);
    await server.close();
    await pg?.storage.close();
    db?.close();
  }, (msg) => logger.info(msg));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`shipping-service: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
