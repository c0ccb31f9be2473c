import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { migrate, openDatabase } from '@shop/common';
import { call, exampleEntryFor, examplesOf, expectProblem, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { migrations } from '../db/migrations.ts';
import { DownloadLinks } from '../downloads/downloadLinks.ts';
import { type RunningShippingService, startShippingService } from '../testing/startShippingService.ts';

const PAID_AT = new Date('2025-06-06T09:00:00.000Z');
// The links of an order paid then work all of Sunday 6 July 2025 in London: until 23:00 UTC.
const LAST_INSTANT = new Date('2025-07-06T22:59:59.999Z');
const EXPIRED = new Date('2025-07-06T23:00:00.000Z');
const SECRET = 'int-test-download-link-secret-0123';
const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const JSON_CLIENT = { accept: 'application/json' };

describe('Download links over HTTP', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let orders: TestFeedServer;
  let billing: TestFeedServer;
  let svc: RunningShippingService | undefined;
  let clock = PAID_AT;
  let n = 0;

  async function start(dataDir: string, env: Record<string, string> = {}): Promise<RunningShippingService> {
    svc = await startShippingService(dataDir, { ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl, ...env }, () => clock);
    return svc;
  }
  /** A paid digital-only order (the order and billing services' contract examples), read by shipping: its download URLs. */
  async function deliver(s: RunningShippingService, orderId: string): Promise<string[]> {
    const digitalOnly = examplesOf('order-service', 'OrderPlaced').find((e) => (e.payload['lines'] as { delivery: string }[]).every((l) => l.delivery === 'digital'))!;
    orders.append(exampleEntryFor(digitalOnly, orderId));
    billing.append(exampleEntryFor(examplesOf('billing-service', 'PaymentReceived')[0]!, orderId, { paidAt: clock.toISOString() }));
    await s.orderFeed.pollOnce();
    await s.billingFeed.pollOnce();
    const entry = s.feed.entriesOf(s.feed.page(s.feed.head().openPage.page)!).find((e) => e.type === 'DigitalDeliveryReady' && e.orderId === orderId)!;
    return (entry.payload['downloads'] as { url: string }[]).map((d) => d.url);
  }
  const withParam = (url: string, name: string, value: string): string => { const u = new URL(url); u.searchParams.set(name, value); return u.toString(); };

  beforeEach(async () => {
    clock = PAID_AT;
    orders = await startTestFeedServer();
    billing = await startTestFeedServer();
  });
  afterEach(async () => { await svc?.close(); svc = undefined; await orders.close(); await billing.close(); });
  after(() => dir.remove());

  it('publishes signed links that name the order, the item and the day the entry promises', async () => {
    const s = await start(join(dir.path, `${n++}`), { DOWNLOAD_LINK_SECRET: SECRET });
    const urls = await deliver(s, 'ORD-DOWNL-00001');
    const own = new DownloadLinks(s.url, SECRET, 'Europe/London');
    expect(urls).to.deep.equal([own.url('ORD-DOWNL-00001', 'EBOOK-7', '2025-07-06'), own.url('ORD-DOWNL-00001', 'AUDIO-2', '2025-07-06')]);
    const entry = s.feed.entriesOf(s.feed.page(1)!).find((e) => e.type === 'DigitalDeliveryReady')!;
    expect(entry.summary).to.include('The links work until Sunday, 6 July 2025.');
    expect(entry.payload).to.deep.include({ expiresAt: EXPIRED.toISOString(), validThrough: '2025-07-06' });
  });

  it('serves a valid link until the last instant of its last day, then answers 403 with a page saying when it expired and what to do', async () => {
    const s = await start(join(dir.path, `${n++}`), { DOWNLOAD_LINK_SECRET: SECRET });
    const [ebook] = await deliver(s, 'ORD-DOWNL-00002');
    for (const headers of [BROWSER, JSON_CLIENT, {}]) {
      const ok = await call('GET', ebook!, undefined, headers);
      expect(ok.status).to.equal(200);
      expect(ok.headers['content-disposition']).to.equal('attachment; filename="EBOOK-7.txt"');
      expect(ok.body).to.include('Sketch of the Engine (eBook) (EBOOK-7)\nOrder ORD-DOWNL-00002');
    }
    clock = LAST_INSTANT;
    expect((await call('GET', ebook!)).status).to.equal(200);

    clock = EXPIRED;
    const page = await call('GET', ebook!, undefined, BROWSER);
    expect(page.status).to.equal(403);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.headers['cache-control']).to.equal('private, no-store');
    expect(page.body).to.include('<h1>This download link has expired</h1>')
      .and.include('worked until the end of\n<strong>Sunday, 6 July 2025</strong> (Europe/London time)')
      .and.include('Sketch of the Engine (eBook)').and.include('For a new link, reply to that email or contact us quoting order <strong>ORD-DOWNL-00002</strong>');
  });

  it('gives a client that accepts JSON (or anything) problem+json for an expired link', async () => {
    const s = await start(join(dir.path, `${n++}`), { DOWNLOAD_LINK_SECRET: SECRET });
    const [ebook] = await deliver(s, 'ORD-DOWNL-00003');
    clock = new Date('2025-08-01T12:00:00.000Z');
    for (const headers of [JSON_CLIENT, { accept: '*/*' }, {}]) {
      const r = await call('GET', ebook!, undefined, headers);
      expectProblem(r, 403, /^This download link has expired: it worked until the end of Sunday, 6 July 2025 \(Europe\/London\); ask for a new link quoting order ORD-DOWNL-00003$/);
      expect(r.json()).to.deep.include({ title: 'Forbidden', reason: 'expired', orderId: 'ORD-DOWNL-00003', sku: 'EBOOK-7', validThrough: '2025-07-06' });
    }
  });

  it('answers 403 "not valid" to an altered link (order, item, day or signature), even one whose day is over', async () => {
    const s = await start(join(dir.path, `${n++}`), { DOWNLOAD_LINK_SECRET: SECRET });
    const [ebook] = await deliver(s, 'ORD-DOWNL-00004');
    await deliver(s, 'ORD-DOWNL-00005');
    const sig = new URL(ebook!).searchParams.get('sig')!;
    const altered = [
      ebook!.replace('ORD-DOWNL-00004', 'ORD-DOWNL-00005'),
      ebook!.replace('/EBOOK-7?', '/AUDIO-2?'),
      withParam(ebook!, 'expires', '2026-07-06'),
      withParam(ebook!, 'expires', '2025-06-01'),
      withParam(ebook!, 'sig', `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`),
      ebook!.replace(/&sig=.*$/, ''),
      `${ebook!}&sig=${sig}`,
    ];
    for (const url of altered) {
      const page = await call('GET', url, undefined, BROWSER);
      expect(page.status, url).to.equal(403);
      expect(page.headers['content-type'], url).to.equal('text/html; charset=utf-8');
      expect(page.body, url).to.include('<h1>This download link is not valid</h1>').and.include('open it again from the email it came in');
      // What the URL says is not shown back: it is not ours.
      expect(page.body, url).not.to.include('ORD-DOWNL');
      const problem = await call('GET', url, undefined, JSON_CLIENT);
      expectProblem(problem, 403, /^This download link is not valid/);
      expect(problem.json()['reason']).to.equal('invalid');
    }
    clock = new Date('2027-01-01T00:00:00.000Z');
    expectProblem(await call('GET', withParam(ebook!, 'expires', '2026-07-06')), 403, /not valid/);
  });

  it('keeps its generated secret in the database: links survive a restart, and another secret refuses them', async () => {
    const data = join(dir.path, `${n++}`);
    const [ebook] = await deliver(await start(data), 'ORD-DOWNL-00006');
    await svc!.close();
    svc = undefined;
    const again = await start(data);
    const moved = ebook!.replace(new URL(ebook!).origin, again.url);
    expect((await call('GET', moved)).status).to.equal(200);
    await svc!.close();
    svc = undefined;
    const other = await start(data, { DOWNLOAD_LINK_SECRET: 'a-different-secret-0123456789' });
    expectProblem(await call('GET', ebook!.replace(new URL(ebook!).origin, other.url)), 403, /not valid/);
  });

  it('honours a token link given before links were signed until the end of the day its email named', async () => {
    const data = join(dir.path, `${n++}`);
    // A database from before signed links, with one link given (its email said "until Sunday, 6 July 2025").
    mkdirSync(data, { recursive: true });
    const old = openDatabase(join(data, 'shipping.db'));
    migrate(old, migrations.filter((m) => m.id !== 'shipping-002-signed-download-links'));
    old.prepare('INSERT INTO shipping_downloads (token, order_id, sku, name, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run('0d6c3c6e-6b8e-4f39-9f55-0c3f7cf1e001', 'ORD-OLDLK-00001', 'EBOOK-7', 'Sketch of the Engine (eBook)', '2025-07-06T09:00:00.000Z');
    old.close();
    const s = await start(data, { DOWNLOAD_LINK_SECRET: SECRET });
    const url = `${s.url}/downloads/0d6c3c6e-6b8e-4f39-9f55-0c3f7cf1e001`;
    clock = LAST_INSTANT;
    const ok = await call('GET', url);
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include('Order ORD-OLDLK-00001');
    clock = EXPIRED;
    const page = await call('GET', url, undefined, BROWSER);
    expect(page.status).to.equal(403);
    expect(page.body).to.include('This download link has expired').and.include('Sunday, 6 July 2025');
    expectProblem(await call('GET', `${s.url}/downloads/0d6c3c6e-6b8e-4f39-9f55-0c3f7cf1e002`), 403, /not valid/);
  });

  it('answers 410 for a valid link once its order is cancelled', async () => {
    const s = await start(join(dir.path, `${n++}`), { DOWNLOAD_LINK_SECRET: SECRET });
    const [ebook] = await deliver(s, 'ORD-DOWNL-00007');
    orders.append(exampleEntryFor(examplesOf('order-service', 'OrderCancelled')[0]!, 'ORD-DOWNL-00007', { cancelledAt: clock.toISOString() }));
    await s.orderFeed.pollOnce();
    expectProblem(await call('GET', ebook!), 410, /order ORD-DOWNL-00007 was cancelled/);
    const page = await call('GET', ebook!, undefined, BROWSER);
    expect(page.status).to.equal(410);
    expect(page.body).to.include('This download is no longer available');
  });
});
