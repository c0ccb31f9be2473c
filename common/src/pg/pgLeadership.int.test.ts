// Subscription leadership across instances: one leads, and another takes over within seconds of
// the leader's session ending, whether its connection is cut or its process is killed.
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { PgLeadership } from './pgLeadership.ts';

const RETRY_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEADER_PROCESS = fileURLToPath(new URL('./testing/leaderProcess.ts', import.meta.url));

async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms); });
  try { return await Promise.race([p, timeout]); } finally { clearTimeout(timer); }
}

describe('Subscription leadership on PostgreSQL', function () {
  this.timeout(30_000);
  let url = '';
  let admin: Client;
  const leaderships: PgLeadership[] = [];
  const children: ChildProcess[] = [];
  const lead = (name: string, onChange?: (leader: boolean) => void): PgLeadership => {
    const l = new PgLeadership({ connectionString: url, name, retryMs: RETRY_MS, onChange });
    leaderships.push(l);
    return l;
  };

  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    url = await createTestDatabase();
    admin = new Client({ connectionString: url });
    await admin.connect();
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(leaderships.map((l) => l.stop()));
    await admin?.end();
  });

  it('lets exactly one of two instances lead a subscription, and each subscription separately', async () => {
    const a = lead('billing-service:orders');
    const b = lead('billing-service:orders');
    const other = lead('shipping-service:orders');
    await a.start();
    await b.start();
    await other.start();
    await sleep(RETRY_MS * 1.5);
    expect([a.isLeader, b.isLeader, other.isLeader]).to.deep.equal([true, false, true]);
  });

  it('stops leading the moment its session is cut, and one instance leads again within seconds', async function () {
    const a = lead('shipping-service:billing');
    const b = lead('shipping-service:billing');
    await a.start();
    await b.start();
    expect([a.isLeader, b.isLeader]).to.deep.equal([true, false]);
    const cutAt = Date.now();
    // The session holding the lock: the follower's session holds no advisory lock.
    const cut = await admin.query(`SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND s.application_name = 'atom-shop leader shipping-service:billing'`);
    expect(cut.rowCount).to.equal(1);
    await sleep(100);
    expect(a.isLeader, 'the cut leader knows at once').to.equal(false);
    // The cut instance lives on and tries again too: either may win, never both.
    await within(RETRY_MS * 3, Promise.race([a.whenLeader(), b.whenLeader()]), 'a leader again');
    this.test!.title += ` (led again after ${Date.now() - cutAt} ms)`;
    await sleep(RETRY_MS * 1.5);
    expect([a.isLeader, b.isLeader].filter(Boolean)).to.have.length(1);
  });

  it('hands over when the leader\'s process is killed: an instance in another process leads within seconds', async function () {
    const child = spawn(process.execPath, ['--import', 'tsx', LEADER_PROCESS, url, 'billing-service:orders-killed', String(RETRY_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    const childLeads = new Promise<void>((resolve) => { child.stdout!.on('data', () => { if (output.includes('leader\n')) resolve(); }); });
    await within(20_000, childLeads, 'the other process leading');

    const here = lead('billing-service:orders-killed');
    await here.start();
    await sleep(RETRY_MS * 1.5);
    expect(here.isLeader, 'no second leader while the first lives').to.equal(false);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await within(10_000, here.whenLeader(), 'this instance taking over');
    const ms = Date.now() - killedAt;
    this.test!.title += ` (took over in ${ms} ms)`;
    expect(ms).to.be.below(RETRY_MS * 3);
  });

  it('lets a leader that stops hand over at the follower\'s next try', async () => {
    const a = lead('order-service:shipping');
    const b = lead('order-service:shipping');
    await a.start();
    await b.start();
    await a.stop();
    expect(a.isLeader).to.equal(false);
    await within(RETRY_MS * 3, b.whenLeader(), 'the follower taking over');
  });
});
