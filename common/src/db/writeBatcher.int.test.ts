import { expect } from 'chai';
import { join } from 'node:path';
import { tempDir } from '../testing/tempDir.ts';
import { migrate, openDatabase } from './database.ts';
import { WriteBatcher } from './writeBatcher.ts';

describe('WriteBatcher (group commit)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  function setup(name: string) {
    const db = openDatabase(join(dir.path, `${name}.db`));
    migrate(db, [{ id: 't-1', sql: 'CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)' }]);
    return { db, batcher: new WriteBatcher(db), insert: db.prepare('INSERT INTO t (v) VALUES (?)'), count: () => (db.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c };
  }

  it('commits writes submitted together in one transaction, in the order submitted', async () => {
    const { db, batcher, insert } = setup('together');
    const results = await Promise.all(['a', 'b', 'c'].map((v) => batcher.run(() => Number(insert.run(v).lastInsertRowid))));
    expect(results).to.deep.equal([1, 2, 3]);
    expect(batcher.stats).to.deep.equal({ batches: 1, writes: 3 });
    db.close();
  });

  it('rolls back only the write that failed', async () => {
    const { db, batcher, insert, count } = setup('failing');
    const outcomes = await Promise.allSettled([
      batcher.run(() => insert.run('x')),
      batcher.run(() => { insert.run('y'); insert.run('x'); }),
      batcher.run(() => insert.run('z')),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).to.match(/UNIQUE/);
    expect(db.prepare('SELECT v FROM t ORDER BY n').all().map((r) => (r as { v: string }).v)).to.deep.equal(['x', 'z']);
    expect(count()).to.equal(2);
    db.close();
  });

  it('answers only after the commit: another connection already sees the write', async () => {
    const { db, batcher, insert } = setup('visible');
    const other = openDatabase(join(dir.path, 'visible.db'));
    await batcher.run(() => insert.run('seen'));
    expect(other.prepare('SELECT v FROM t').all()).to.deep.equal([{ v: 'seen' }]);
    other.close();
    db.close();
  });

  it('fails every write of the batch, and stores none, when one write loses the whole transaction', async () => {
    const { db, batcher, insert, count } = setup('lost');
    db.exec("CREATE TRIGGER no_poison BEFORE INSERT ON t WHEN NEW.v = 'poison' BEGIN SELECT RAISE(ROLLBACK, 'poisoned'); END");
    const outcomes = await Promise.allSettled(['a', 'poison', 'c', 'd'].map((v) => batcher.run(() => insert.run(v))));
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(count()).to.equal(0);
    expect(db.inTransaction).to.equal(false);
    await batcher.run(() => insert.run('after'));
    expect(count()).to.equal(1);
    db.close();
  });
});
