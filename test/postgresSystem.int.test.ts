// The whole system with the publishers on PostgreSQL (DATABASE_URL, a database each) and the
// notification service on SQLite: four real processes, as `npm start` runs them. Orders still
// get their confirmation and dispatch emails, and billing's and shipping's subscriptions are led.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { call, createTestDatabase, postgresqlPeer, requirePeer, tempDir } from '@shop/common/testing';
import { adaOrder } from '../order-service/src/testing/adaOrder.ts';
import { LocalSystem, type ServiceName } from '../scripts/src/system/localSystem.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runSystem(basePort: number, onPg: readonly ServiceName[]): Promise<void> {
  const dir = tempDir('atom-shop-pg-system-');
  const databaseUrls: Partial<Record<ServiceName, string>> = {};
  for (const name of onPg) databaseUrls[name] = await createTestDatabase();
  const system = new LocalSystem({
    dataDir: dir.path, basePort, databaseUrls,
    env: { LOG_LEVEL: 'warn', SHIPPING_AUTO_DISPATCH_DELAY: '0', CONSUMER_LONG_POLL: '30', LONG_POLL_SECONDS: '30', POLL_SCHEDULE: '1s' },
  });
  try {
    await system.startAll().catch((e: unknown) => {
      const logs = (['order-service', 'billing-service', 'shipping-service', 'notification-service'] as const)
        .map((n) => join(dir.path, `${n}.log`)).filter(existsSync).map((f) => `${f}:\n${readFileSync(f, 'utf8').slice(-2000)}`);
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs.join('\n')}`);
    });
    const ids: string[] = [];
    const books = { ...adaOrder, lines: [adaOrder.lines[0]] };
    const ebook = { ...adaOrder, lines: [adaOrder.lines[1]], shippingAddress: null };
    for (const body of [adaOrder, books, ebook]) {
      const r = await call('POST', `${system.urls['order-service']}/orders`, body);
      expect(r.status, r.body).to.equal(201);
      ids.push(r.json()['id'] as string);
    }
    const outbox = join(system.dataDirOf('notification-service'), 'outbox');
    const expected = [`confirmation-${ids[0]}`, `dispatched-${ids[0]}`, `confirmation-${ids[1]}`, `dispatched-${ids[1]}`, `confirmation-${ids[2]}`];
    const have = (): string[] => (existsSync(outbox) ? readdirSync(outbox) : []).map((f) => f.replace(/^\d+-/, '').replace(/\.eml$/, ''));
    const deadline = Date.now() + 30_000;
    while (!expected.every((e) => have().includes(e)) && Date.now() < deadline) await sleep(100);
    expect(have().sort()).to.deep.equal([...expected].sort());
    for (const name of onPg) {
      if (name === 'order-service') continue;
      const status = (await call('GET', `${system.urls[name]}/status`)).json() as { subscriptions: { name: string; leader: boolean; parkedTotal: number }[] };
      expect(status.subscriptions.every((s) => s.leader && s.parkedTotal === 0), `${name}: ${JSON.stringify(status)}`).to.equal(true);
    }
    // A dispatched order can no longer be cancelled: the order service read shipping's feed.
    const deadline2 = Date.now() + 10_000;
    let cancel = await call('POST', `${system.urls['order-service']}/orders/${ids[1]}/cancel`, { reason: 'Too late' });
    while (cancel.status !== 409 && Date.now() < deadline2) {
      await sleep(200);
      cancel = await call('POST', `${system.urls['order-service']}/orders/${ids[1]}/cancel`, { reason: 'Too late' });
    }
    expect(cancel.status, cancel.body).to.equal(409);
  } finally {
    await system.stopAll();
    dir.remove();
  }
}

describe('The system with its publishers on PostgreSQL and notification on SQLite', function () {
  this.timeout(120_000);
  before(async function () { this.timeout(60_000); await requirePeer(this, postgresqlPeer); });

  it('emails every confirmation and dispatch with billing and shipping on PostgreSQL', async () => {
    await runSystem(4601, ['billing-service', 'shipping-service']);
  });

  it('emails every confirmation and dispatch with order, billing and shipping on PostgreSQL', async () => {
    await runSystem(4611, ['order-service', 'billing-service', 'shipping-service']);
  });
});
