import { join } from 'node:path';
import { ConfigError, createLogger, listen, migrate, onShutdown, openDatabase, runPollLoop } from '@shop/common';
import { createApp } from './app.ts';
import { dispatchDue } from './autoDispatch.ts';
import { loadConfig } from './config.ts';

import { migrations } from './db/migrations.ts';

const logger = createLogger({ service: 'shipping-service' });
try {
  const config = loadConfig();
  const db = openDatabase(join(config.dataDir, 'shipping.db'));
  migrate(db, migrations);
  const { handler, orderFeed, billingFeed, shipping, ops } = createApp({ db, config, logger });
  const server = await listen(handler, config.host, config.port);
  logger.info('listening', {
    url: server.url, feed: `${config.publicUrl}/feed`, orderFeed: config.orderFeedUrl, billingFeed: config.billingFeedUrl,
    autoDispatch: config.autoDispatch ? `${config.autoDispatchDelaySeconds}s` : false, dataDir: config.dataDir,
  });
  const stop = new AbortController();
  const polling = Promise.all([runPollLoop(orderFeed, stop.signal), runPollLoop(billingFeed, stop.signal)]);
  // A timer, not a loop: dispatchDue is synchronous, so a tick never overlaps the one before.
  const dispatcher = config.autoDispatch
    ? setInterval(() => {
      try { dispatchDue(shipping, new Date(), config.autoDispatchDelaySeconds, logger); } catch (err) { logger.error('auto-dispatch failed', { err }); }
    }, 1000)
    : undefined;
  onShutdown(async () => {
    // Not ready at once; after SHUTDOWN_DELAY long polls are answered, the polls and requests in flight finish.
    await ops.health.shutDown(config.shutdownDelaySeconds * 1000);
    clearInterval(dispatcher);
    stop.abort();
    await polling;
    await Promise.all([orderFeed.close(), billingFeed.close()]);
    await server.close();
    db.close();
  }, (msg) => logger.info(msg));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`shipping-service: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
