import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, FeedConsumer, migrate, openDatabase, consumerMigrations } from '@shop/common';
import { expect } from 'chai';
import { PollScheduler } from './pollScheduler.ts';

describe('PollScheduler', () => {
  it('never polls a feed twice at once, and stop() waits for the poll in flight', async () => {
    const held: ServerResponse[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const server = createServer((_req, res) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      res.on('close', () => { concurrent--; });
      held.push(res);
      server.emit('held');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const db = openDatabase(':memory:');
    migrate(db, consumerMigrations);
    const consumer = new FeedConsumer(db, { name: 'slow', feedUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`, handler: () => undefined });
    const events: string[] = [];
    const scheduler = new PollScheduler([consumer], async () => { events.push('after-poll'); }, createLogger({}, 'silent'));
    try {
      scheduler.start({ kind: 'interval', ms: 100 });
      await once(server, 'held');
      // A cron tick or an operator asking for a poll now joins the one in flight.
      const joined = consumer.pollOnce();
      const manual = scheduler.pollAll();
      void joined.then(() => events.push('poll settled'));
      await scheduler.stop();
      events.push('stopped');
      await manual;
      expect(held).to.have.length(1);
      expect(maxConcurrent).to.equal(1);
      expect(events.indexOf('poll settled')).to.be.within(0, events.indexOf('stopped'));
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
      db.close();
    }
  });
});
