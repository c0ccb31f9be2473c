import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { simpleParser } from 'mailparser';
import { startShopFeeds } from './testing/shopFeeds.ts';

const CHILD = fileURLToPath(new URL('./testing/crashingService.ts', import.meta.url));

describe('The notification service killed with SIGKILL', function () {
  this.timeout(30_000);

  it('recovers with no email lost or doubled, and a resend keeps its Message-ID', async () => {
    const feeds = await startShopFeeds();
    const dir = tempDir();
    const run = async (killAt: 'queued' | 'delivered' | 'never') => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir.path, feeds.orders.feedUrl, feeds.billing.feedUrl, feeds.shipping.feedUrl, killAt], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const [code, signal] = await once(child, 'exit') as [number | null, string | null];
      if (signal === null && code !== 0) throw new Error(stderr);
      return signal ?? `exit ${code}`;
    };
    try {
      feeds.place('ORD-K1'); feeds.pay('ORD-K1'); feeds.schedule('ORD-K1');
      expect(await run('queued')).to.equal('SIGKILL');     // decided, not committed: decided again
      expect(await run('delivered')).to.equal('SIGKILL');  // written, not marked sent: written again
      expect(await run('never')).to.equal('exit 0');
      feeds.dispatch('ORD-K1');
      feeds.place('ORD-K2'); feeds.pay('ORD-K2'); feeds.schedule('ORD-K2');
      expect(await run('queued')).to.equal('SIGKILL');
      expect(await run('never')).to.equal('exit 0');

      const db = openDatabase(join(dir.path, 'notification.db'));
      const rows = db.prepare<[], { key: string; sent_at: string | null; message_id: string; attempts: number }>('SELECT key, sent_at, message_id, attempts FROM outbox ORDER BY id').all();
      const positions = db.prepare<[], { name: string; position: number }>('SELECT name, position FROM consumer_subscriptions ORDER BY name').all();
      db.close();
      expect(rows.map((r) => r.key)).to.deep.equal(['order-ORD-K1-confirmation', 'order-ORD-K1-dispatched', 'order-ORD-K2-confirmation']);
      expect(rows.every((r) => r.sent_at !== null)).to.equal(true);
      expect(rows[0]!.attempts).to.equal(1); // the killed delivery never got to count itself
      expect(positions).to.deep.equal([{ name: 'billing', position: 2 }, { name: 'orders', position: 2 }, { name: 'shipping', position: 3 }]);
      const files = readdirSync(join(dir.path, 'outbox')).filter((f) => f.endsWith('.eml')).sort();
      expect(files).to.have.length(3);
      const ids = await Promise.all(files.map(async (f) => (await simpleParser(readFileSync(join(dir.path, 'outbox', f)))).messageId));
      expect(ids).to.deep.equal(rows.map((r) => r.message_id));
    } finally {
      await feeds.close();
      dir.remove();
    }
  });
});
