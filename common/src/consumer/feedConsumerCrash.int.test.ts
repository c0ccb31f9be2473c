import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openDatabase } from '../db/database.ts';
import { startTestFeedServer } from '../testing/feedServer.ts';
import { tempDir } from '../testing/tempDir.ts';

const CHILD = fileURLToPath(new URL('./fixtures/crashingConsumer.ts', import.meta.url));

/** Runs the consumer in a child process; resolves with how it ended. */
async function run(file: string, feedUrl: string, at: number, where: 'start' | 'written' | 'never'): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, feedUrl, String(at), where], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null];
  if (code !== 0 && signal === null) throw new Error(`child failed: ${stderr}`);
  return signal ?? `exit ${code}`;
}

describe('FeedConsumer killed with SIGKILL between any two steps', function () {
  this.timeout(30_000);
  it('loses nothing and applies nothing twice, in feed order, across restarts', async () => {
    const dir = tempDir();
    const feed = await startTestFeedServer({ pageSize: 5 });
    try {
      for (let i = 0; i < 12; i++) feed.append();
      const file = join(dir.path, 'consumer.db');
      const url = feed.feedUrl;
      expect(await run(file, url, 1, 'start')).to.equal('SIGKILL'); // before anything was committed
      expect(await run(file, url, 3, 'written')).to.equal('SIGKILL'); // writes done, commit not
      expect(await run(file, url, 6, 'start')).to.equal('SIGKILL'); // first entry of the working page
      expect(await run(file, url, 11, 'written')).to.equal('SIGKILL');
      expect(await run(file, url, 0, 'never')).to.equal('exit 0');
      for (let i = 0; i < 3; i++) feed.append(); // the working page rolls over meanwhile
      expect(await run(file, url, 14, 'start')).to.equal('SIGKILL');
      expect(await run(file, url, 0, 'never')).to.equal('exit 0');
      const db = openDatabase(file);
      const rows = db.prepare<[], { position: number; atom_id: string }>('SELECT position, atom_id FROM applied ORDER BY seq').all();
      const sub = db.prepare<[], { position: number; last_atom_id: string }>('SELECT position, last_atom_id FROM consumer_subscriptions').get()!;
      db.close();
      expect(rows.map((r) => r.position)).to.deep.equal(Array.from({ length: 15 }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.atom_id)).size).to.equal(15);
      expect(sub).to.deep.equal({ position: 15, last_atom_id: rows.at(-1)!.atom_id });
    } finally {
      await feed.close();
      dir.remove();
    }
  });
});
