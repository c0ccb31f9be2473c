import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { request } from 'undici';
import { requirePeer, tempDir } from '@shop/common/testing';
import { adaOrder } from '../order-service/src/testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../order-service/src/testing/startOrderService.ts';

// A real feed reader: Python's feedparser, from Debian (python3-feedparser, installed by .ci/run).
// PYTHON3_BIN names another python3 (one with feedparser, or /nonexistent to try the skip).
const PYTHON = process.env['PYTHON3_BIN'] || '/usr/bin/python3';
const FEEDPARSER = {
  name: 'python3-feedparser',
  install: 'apt-get install python3-feedparser',
  check: () => existsSync(PYTHON) && promisify(execFile)(PYTHON, ['-c', 'import feedparser']).then(() => true, () => false),
};
const READER = `
import json, sys, feedparser
d = feedparser.parse(sys.argv[1], etag=(sys.argv[2] or None))
print(json.dumps({
  "status": d.get("status"), "bozo": d.bozo, "bozo_exception": str(d.get("bozo_exception", "")),
  "version": d.version, "etag": d.get("etag"), "title": d.feed.get("title"),
  "links": [[l.get("rel"), l.get("href")] for l in d.feed.get("links", [])],
  "entries": [{"id": e.id, "title": e.title, "categories": [t.term for t in e.get("tags", [])],
               "content_type": e.content[0].type if e.get("content") else None} for e in d.entries],
}))
`;

async function readWithFeedparser(url: string, etag = ''): Promise<Record<string, any>> {
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', READER, url, etag]);
  return JSON.parse(stdout) as Record<string, any>;
}

describe('A real feed reader (feedparser) on the order feed', function () {
  this.timeout(30_000);
  const dir = tempDir();
  let svc: RunningOrderService;
  before(async function () {
    await requirePeer(this, FEEDPARSER);
    svc = await startOrderService(dir.path, { FEED_PAGE_SIZE: '2' });
    for (const name of ['Ada Lovelace', '<script>alert(1)</script> & "Bob"', 'Charles Babbage']) {
      const r = await request(`${svc.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...adaOrder, customer: { name, email: 'x@example.com' } }) });
      expect(r.statusCode).to.equal(201);
      await r.body.dump();
    }
  });
  after(async () => { await svc?.close(); dir.remove(); });

  it('parses the subscription document cleanly, with its paging link', async () => {
    const d = await readWithFeedparser(`${svc.url}/feed`);
    expect(d['bozo'], d['bozo_exception']).to.equal(false);
    expect(d['version']).to.equal('atom10');
    expect(d['title']).to.equal('Orders');
    expect(d['links']).to.deep.include(['prev-archive', `${svc.url}/feed/archive/1`]);
    expect(d['entries']).to.have.length(1);
    expect(d['entries'][0].categories).to.deep.equal(['OrderPlaced']);
    expect(d['entries'][0].content_type).to.equal('application/xhtml+xml');
  });

  it('reads an archive page, linked back to the current document', async () => {
    const d = await readWithFeedparser(`${svc.url}/feed/archive/1`);
    expect(d['bozo'], d['bozo_exception']).to.equal(false);
    expect(d['links']).to.deep.include(['current', `${svc.url}/feed`]);
    expect(d['entries']).to.have.length(2);
  });

  it('gets a 304 when it revalidates with the ETag it was given', async () => {
    const first = await readWithFeedparser(`${svc.url}/feed`);
    const again = await readWithFeedparser(`${svc.url}/feed`, first['etag']);
    expect(again['status']).to.equal(304);
  });
});
