import { expect } from 'chai';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Dispatcher, request } from 'undici';
import { tempDir } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../testing/startOrderService.ts';

const PAGE_SIZE = 7;

/** Walks the whole feed from /feed back through prev-archive; returns every position seen. */
async function walk(feedUrl: string): Promise<number[]> {
  const seen: number[] = [];
  let url: string | undefined = feedUrl;
  while (url) {
    const res: Dispatcher.ResponseData = await request(url);
    const xml: string = await res.body.text();
    const onPage = [...xml.matchAll(/<shop:position>(\d+)<\/shop:position>/g)].map((m) => Number(m[1]));
    // Within a document, entries are newest first and contiguous.
    onPage.forEach((p, i) => { if (i > 0) expect(p, `order within ${url}`).to.equal(onPage[i - 1]! - 1); });
    seen.push(...onPage);
    url = /rel="prev-archive" type="application\/atom\+xml" href="([^"]+)"/.exec(xml)?.[1];
  }
  return seen.sort((a, b) => a - b);
}

describe('The order feed under concurrent writers', function () {
  this.timeout(120_000);
  const dir = tempDir();
  let svc: RunningOrderService;
  before(async () => { svc = await startOrderService(dir.path, { FEED_PAGE_SIZE: String(PAGE_SIZE) }); });
  after(async () => { await svc.close(); dir.remove(); });

  it('shows readers every entry in commit order with no gap, ever, with three other writer processes and HTTP writers', async () => {
    const file = join(dir.path, 'orders.db');
    const script = fileURLToPath(new URL('../testing/placeOrdersProcess.ts', import.meta.url));
    const writers = [1, 2, 3].map(() => fork(script, [file, '60', String(PAGE_SIZE)], { execArgv: ['--import', 'tsx'] }));
    const workersDone = Promise.all(writers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
    })));
    const posts = Promise.all(Array.from({ length: 60 }, () => request(`${svc.url}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(adaOrder),
    }).then(async (r) => { await r.body.dump(); expect(r.statusCode).to.equal(201); })));

    let writing = true;
    const allWritten = Promise.all([workersDone, posts]).finally(() => { writing = false; });
    let walks = 0;
    const readers = [1, 2].map(async () => {
      while (writing) {
        const seen = await walk(`${svc.url}/feed`);
        expect(seen, 'a gap-free prefix of the feed').to.deep.equal(Array.from({ length: seen.length }, (_, i) => i + 1));
        walks += 1;
      }
    });
    await Promise.all([allWritten, ...readers]);

    const total = 3 * 60 + 60;
    expect(await walk(`${svc.url}/feed`)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
    expect(walks, 'readers walked while writers wrote').to.be.greaterThan(0);
    const counts = svc.db.prepare('SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM feed_entries) AS entries').get();
    expect(counts).to.deep.equal({ events: total, entries: total });
  });
});
