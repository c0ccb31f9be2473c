import type { Db } from '@shop/common';

/** What a RecordingDb saw: each statement run (its SQL) and the rows it returned. */
export interface Recorded {
  readonly sql: string;
  readonly rows: readonly unknown[];
}

/**
 * The database as a store sees it, recording every statement the store runs and the rows each
 * returns, so a test can ask which queries a method ran (and EXPLAIN them) or how many emails'
 * contents it read, whatever the store's statements are called.
 */
export function recordingDb(db: Db): { readonly db: Db; readonly ran: Recorded[] } {
  const ran: Recorded[] = [];
  const wrap = (sql: string, stmt: object): object => new Proxy(stmt, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'get' || prop === 'all' || prop === 'run') {
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          const rows = prop === 'all' ? result as unknown[] : prop === 'get' && result !== undefined ? [result] : [];
          ran.push({ sql, rows });
          return result;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  const proxy = new Proxy(db, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'prepare') return (sql: string) => wrap(sql, target.prepare(sql));
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { db: proxy, ran };
}

/** The query plan of `sql` (EXPLAIN QUERY PLAN's detail lines), its parameters all null. */
export function queryPlan(db: Db, sql: string): string[] {
  const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const named = [...sql.matchAll(/[@:$]([A-Za-z_]\w*)/g)].map((m) => m[1]!);
  const positional = (sql.match(/\?/g) ?? []).length;
  const args: unknown[] = named.length > 0 ? [Object.fromEntries(named.map((n) => [n, null]))] : Array.from({ length: positional }, () => null);
  return (stmt.all(...args) as { detail: string }[]).map((r) => r.detail);
}
