// Partitions shared among live instances through PostgreSQL advisory locks: a joiner gets its
// share, a stopping instance hands over, a killed one's partitions are taken within a tick or two;
// and according to the callbacks no partition is ever worked on by two instances at once.
import { createLogger } from '@shop/common';
import { migratePg, openPgPool, type PgPool } from '@shop/common/pg';
import { requirePostgres } from '@shop/common/testing';
import { expect } from 'chai';
import { notificationPgMigrations } from '../db/pgMigrations.ts';
import { PgPartitionOwnership } from './pgPartitionOwnership.ts';

const P = 8;
const INTERVAL_MS = 100;
const ALL = Array.from({ length: P }, (_, i) => i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` until it holds; returns how long that took. */
async function until(what: string, condition: () => boolean, ms = 5000): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
  return Date.now() - started;
}

type Kind = 'acquire' | 'releasing' | 'released' | 'lost';
interface Event { readonly seq: number; readonly who: string; readonly kind: Kind; readonly partition: number }

describe('Partition ownership on PostgreSQL', function () {
  this.timeout(30_000);
  let url = '';
  let pool: PgPool;
  let events: Event[] = [];
  let violations: string[] = [];
  let working = new Map<number, string>(); // who works on each partition, by the callbacks
  let killed = new Set<string>();
  let running: PgPartitionOwnership[] = [];

  const record = (who: string, kind: Kind, partition: number): void => {
    events.push({ seq: events.length, who, kind, partition });
    const current = working.get(partition);
    if (kind === 'acquire') {
      if (current !== undefined && !killed.has(current)) violations.push(`${who} acquired ${partition} while ${current} worked on it`);
      working.set(partition, who);
    } else if (kind === 'releasing') {
      if (current !== who) violations.push(`${who} released ${partition}, which ${current ?? 'nobody'} worked on`);
    } else if (current === who) {
      working.delete(partition);
    }
  };

  const start = async (name: string, options: { now?: () => Date; dieOnLost?: boolean; lines?: string[] } = {}): Promise<PgPartitionOwnership> => {
    const o: PgPartitionOwnership = new PgPartitionOwnership({
      connectionString: url, partitions: P, instance: name, intervalMs: INTERVAL_MS, now: options.now,
      logger: options.lines ? createLogger({}, 'info', (l) => options.lines!.push(l)) : createLogger({}, 'silent'),
      onAcquire: (p) => record(name, 'acquire', p),
      onRelease: async (p) => {
        record(name, 'releasing', p);
        if (o.owned().includes(p)) violations.push(`${name} still listed ${p} as owned during its onRelease`);
        await sleep(20); // work winding down: nobody may start on p meanwhile
        record(name, 'released', p);
      },
      onLost: (ps) => {
        for (const p of ps) record(name, 'lost', p);
        // What a SIGKILLed process does next: nothing.
        if (options.dieOnLost) { killed.add(name); void o.stop(); }
      },
    });
    running.push(o);
    await o.start();
    return o;
  };

  const union = (os: readonly PgPartitionOwnership[]): number[] => os.flatMap((o) => o.owned()).sort((a, b) => a - b);
  const balanced = (os: readonly PgPartitionOwnership[]): boolean =>
    union(os).join() === ALL.join() && os.every((o) => o.owned().length >= Math.floor(P / os.length) && o.owned().length <= Math.ceil(P / os.length));

  before(async function () {
    url = await requirePostgres(this);
    pool = openPgPool(url);
    await migratePg(pool, notificationPgMigrations);
  });
  beforeEach(() => { events = []; violations = []; working = new Map(); killed = new Set(); running = []; });
  afterEach(async () => { await Promise.all(running.map((o) => o.stop())); });
  after(async () => { await pool?.end(); });

  it('gives a lone instance all the partitions, and logs which it took', async () => {
    const lines: string[] = [];
    const a = await start('host-a', { lines });
    expect(a.owned()).to.deep.equal(ALL);
    expect(a.lastChangeAt).to.be.a('string');
    const acquired = lines.map((l) => JSON.parse(l) as { level: string; msg: string; partitions?: number[] }).filter((l) => l.msg === 'partitions acquired');
    expect(acquired.flatMap((l) => l.partitions ?? []).sort((x, y) => x - y)).to.deep.equal(ALL);
    expect(acquired.every((l) => l.level === 'info')).to.equal(true);
  });

  it('gives a joiner half within a few ticks, each partition released by the first before the second starts it', async () => {
    const a = await start('host-a');
    const b = await start('host-b');
    await until('4 and 4', () => balanced([a, b]));
    expect([a.owned().length, b.owned().length]).to.deep.equal([4, 4]);
    for (const p of b.owned()) {
      const released = events.find((e) => e.who === 'host-a' && e.kind === 'released' && e.partition === p);
      const acquired = events.find((e) => e.who === 'host-b' && e.kind === 'acquire' && e.partition === p);
      expect(released, `host-a released ${p}`).to.not.equal(undefined);
      expect(acquired!.seq, `host-b took ${p} after host-a had finished releasing it`).to.be.greaterThan(released!.seq);
    }
    await sleep(INTERVAL_MS * 5);
    expect(events.filter((e) => e.kind === 'acquire')).to.have.length(P + 4, 'no partition moved again once balanced');
    expect(violations).to.deep.equal([]);
  });

  it('splits 3/3/2 when a third joins', async () => {
    const os = [await start('host-a'), await start('host-b')];
    await until('two balanced', () => balanced(os));
    os.push(await start('host-c'));
    await until('three balanced', () => balanced(os));
    expect(os.map((o) => o.owned().length).sort()).to.deep.equal([2, 3, 3]);
    expect(violations).to.deep.equal([]);
  });

  it('gives every one of five instances work (P = 8: 2/2/2/1/1)', async () => {
    const os: PgPartitionOwnership[] = [];
    for (const name of ['host-a', 'host-b', 'host-c', 'host-d', 'host-e']) os.push(await start(name));
    await until('five balanced', () => balanced(os));
    expect(os.map((o) => o.owned().length).sort()).to.deep.equal([1, 1, 2, 2, 2]);
    expect(violations).to.deep.equal([]);
  });

  it('has the survivors take a killed instance\'s partitions within a few ticks', async () => {
    const a = await start('host-a');
    const b = await start('host-b');
    const victim = await start('host-c', { dieOnLost: true });
    await until('three balanced', () => balanced([a, b, victim]));
    const victims = victim.owned();
    const killedAt = Date.now();
    // What PostgreSQL sees when a process is SIGKILLed: its session ends and its locks go.
    const cut = await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'notification-service host-c'`);
    expect(cut.rowCount).to.equal(1);
    await until('all 8 owned by the survivors', () => union([a, b]).join() === ALL.join());
    const ms = Date.now() - killedAt;
    console.log(`      partitions of the killed instance taken over in ${ms} ms`);
    expect(ms).to.be.below(5000);
    expect(events.filter((e) => e.who === 'host-c' && e.kind === 'lost').map((e) => e.partition)).to.deep.equal(victims);
    expect(victim.owned()).to.deep.equal([]);
    expect([a.owned().length, b.owned().length]).to.deep.equal([4, 4]);
    expect(violations).to.deep.equal([]);
  });

  it('hands every partition over when an instance stops', async () => {
    const os = [await start('host-a'), await start('host-b'), await start('host-c')];
    await until('three balanced', () => balanced(os));
    const leaving = os[2]!.owned();
    await os[2]!.stop();
    expect(os[2]!.owned()).to.deep.equal([]);
    expect(events.filter((e) => e.who === 'host-c' && e.kind === 'released').map((e) => e.partition).sort()).to.deep.equal([...leaving].sort());
    await until('the other two balanced', () => balanced(os.slice(0, 2)));
    await os[2]!.stop(); // idempotent
    expect(violations).to.deep.equal([]);
  });

  it('shows who owns what since when, on its own session or on a pool', async () => {
    const a = await start('host-a', { now: () => new Date('2030-01-01T10:00:00.000Z') });
    const b = await start('host-b', { now: () => new Date('2030-01-01T11:00:00.000Z') });
    await until('balanced', () => balanced([a, b]));
    const since = { 'host-a': '2030-01-01T10:00:00.000Z', 'host-b': '2030-01-01T11:00:00.000Z' } as const;
    for (const snapshot of [await a.snapshot(), await b.snapshot(pool)]) {
      expect(snapshot.partitions).to.equal(P);
      expect(snapshot.instances.map((i) => [i.instance, i.partitions]).sort()).to.deep.equal([['host-a', a.owned()], ['host-b', b.owned()]]);
      expect(snapshot.instances.every((i) => Number.isInteger(i.pid))).to.equal(true);
      expect(snapshot.owners).to.deep.equal(ALL.map((p) => {
        const owner = a.owned().includes(p) ? 'host-a' : 'host-b';
        return { partition: p, owner, since: since[owner] };
      }));
    }
    expect((await a.snapshot()).me).to.equal('host-a');
    await b.stop();
    await until('host-a alone', () => a.owned().length === P);
    expect((await a.snapshot()).instances.map((i) => i.instance)).to.deep.equal(['host-a']);
  });
});
