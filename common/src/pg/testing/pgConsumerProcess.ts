// An instance of a service reading one feed into PostgreSQL, for the consumer tests: leads
// `test-service:<name>` (when `lead` is given), polls while it leads, records each entry it
// applies in `applied` with its instance id (in the transaction that moves the read position),
// and SIGKILLs itself at a chosen point: `start` (in the handler, before its write) or
// `written` (after it, before the commit). Logs JSON lines on stdout (`leading the subscription`).
// Usage: pgConsumerProcess.ts <postgres url> <feed url> <instance> <lead|nolead> <position> <start|written|never>
import { createLogger } from '../../log/logger.ts';
import { runPollLoop } from '../../consumer/pollLoop.ts';
import { pgConsumerMigrations } from '../pgConsumerStore.ts';
import { openPgPool } from '../pgDatabase.ts';
import { PgFeedConsumer } from '../pgFeedConsumer.ts';
import { migratePg } from '../pgMigrate.ts';

const [url, feedUrl, instance, lead, at, where] = process.argv.slice(2) as [string, string, string, string, string, string];
const appliedMigration = { id: 'test-applied', sql: 'CREATE TABLE IF NOT EXISTS applied (seq BIGSERIAL PRIMARY KEY, instance TEXT NOT NULL, atom_id TEXT NOT NULL, position BIGINT NOT NULL)' };
const pool = openPgPool(url, { max: 3 });
// The bookkeeping commits without waiting for its WAL flush, as the services run it.
const bookkeepingPool = openPgPool(url, { max: 1, synchronousCommit: false });
await migratePg(pool, [...pgConsumerMigrations, appliedMigration]);
const consumer = new PgFeedConsumer(pool, {
  name: 'crashy', feedUrl, backoff: { baseMs: 0, maxMs: 50 }, longPollSeconds: 5,
  logger: createLogger({ instance }, 'info'),
  bookkeepingPool,
  leadership: lead === 'lead' ? { connectionString: url, service: 'test-service' } : undefined,
  handler: async (e, tx) => {
    if (e.position === Number(at) && where === 'start') process.kill(process.pid, 'SIGKILL');
    await tx.query('INSERT INTO applied (instance, atom_id, position) VALUES ($1, $2, $3)', [instance, e.atomId, e.position]);
    if (e.position === Number(at) && where === 'written') process.kill(process.pid, 'SIGKILL');
  },
});
await consumer.startLeading();
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
if (lead === 'lead') {
  await runPollLoop(consumer, stop.signal, 50);
} else {
  // Reads until caught up, then exits 0.
  for (;;) {
    const r = await consumer.pollOnce();
    if (r.kind === 'failed') throw new Error(r.error);
    if (r.kind === 'not-modified' || (r.kind === 'read' && r.position === r.newest)) break;
  }
}
await consumer.close();
await pool.end();
await bookkeepingPool.end();
