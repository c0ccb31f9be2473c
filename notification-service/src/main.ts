import { ConfigError, createLogger, listen, migrate, onShutdown, openDatabase } from '@shop/common';
import { createApp } from './app.ts';
import { readConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { formatShard } from './domain/shard.ts';
import { buildNotificationService } from './notificationService.ts';

try {
  const config = readConfig();
  const baseLogger = createLogger({ service: 'notification-service' });
  if (config.databaseUrl !== undefined) {
    // DATABASE_URL: instances share one PostgreSQL database and the partitions (the driver is loaded only then).
    const logger = baseLogger.child({ instance: config.instanceName });
    const { openNotificationPg, buildPgNotificationService } = await import('./pgNotificationService.ts');
    const pg = await openNotificationPg(config.databaseUrl, logger).catch((err: unknown) => {
      // Down or unreachable, a wrong password, a migration refused: said in one line, exit 1 (a supervisor retries).
      console.error(`notification-service: cannot open the database at DATABASE_URL: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
    const service = await buildPgNotificationService(pg, config, { logger: baseLogger });
    const server = await listen(createApp({ service, logger, mailFrom: config.mailFrom }), config.host, config.port);
    onShutdown(async () => {
      // Not ready at once; after SHUTDOWN_DELAY the partitions and feeds are handed over (each after its work in flight).
      await service.health.shutDown(config.shutdownDelaySeconds * 1000);
      await server.close();
      await service.stop();
      await pg.close();
    }, (msg) => logger.info(msg));
    await service.start();
    service.templates.watch();
    logger.info('listening', { url: server.url, publicUrl: config.publicUrl, storage: 'postgresql', partitions: service.partitions, owned: service.ownership.owned(), templatesDir: config.templatesDir, feeds: config.feeds, mail: config.smtpUrl ? 'smtp' : config.outboxDir });
  } else {
    // The shard is part of every line (the service adds it to its own), so the logs of several
    // instances can be told apart when merged.
    const logger = baseLogger.child({ shard: formatShard(config.shard) });
    const db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    const service = buildNotificationService(db, config, { logger: baseLogger });
    const server = await listen(createApp({ service, logger, mailFrom: config.mailFrom }), config.host, config.port);
    onShutdown(async () => {
      // Not ready at once; after SHUTDOWN_DELAY the polls, deliveries and requests in flight finish.
      await service.health.shutDown(config.shutdownDelaySeconds * 1000);
      await server.close();
      await service.stop();
      db.close();
    }, (msg) => logger.info(msg));
    service.scheduler.start(config.schedule);
    service.templates.watch();
    logger.info('listening', { url: server.url, publicUrl: config.publicUrl, templatesDir: config.templatesDir, dataDir: config.dataDir, feeds: config.feeds, schedule: config.schedule, mail: config.smtpUrl ? 'smtp' : config.outboxDir });
  }
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`notification-service: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
