import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, type Migration, pendingMigrations } from '../db/database.ts';

export type Readiness =
  | { readonly ready: true }
  | { readonly ready: false; readonly reasons: readonly string[] };

/**
 * Whether a service should get traffic: its database open and migrated, and not shutting down.
 * On SIGTERM `shutDown` makes it not ready at once, gives load balancers `delayMs` to notice
 * (serving as usual meanwhile), then runs the closing hooks (long polls answered now).
 */
export class ServiceHealth {
  readonly #db: Db | null;
  readonly #migrations: readonly Migration[];
  readonly #closing: (() => void)[] = [];
  #shuttingDown = false;
  #migrated = false;

  /** `db` null: the service's storage is a server database, migrated before it listens (PostgreSQL). */
  constructor(db: Db | null, migrations: readonly Migration[]) {
    this.#db = db;
    this.#migrations = migrations;
  }

  get shuttingDown(): boolean { return this.#shuttingDown; }

  readiness(): Readiness {
    const reasons: string[] = [];
    if (this.#shuttingDown) reasons.push('the service is shutting down');
    if (this.#db === null) {
      // Migrated before listening; a server that goes away shows in the requests that need it.
    } else if (!this.#db.open) {
      reasons.push('the database is closed');
    } else if (!this.#migrated) {
      // Once migrated, always migrated (migrations only ever add): checked until then.
      try {
        const pending = pendingMigrations(this.#db, this.#migrations);
        if (pending.length > 0) reasons.push(`the database is not migrated: ${pending.length} migration(s) pending (${pending.join(', ')})`);
        else this.#migrated = true;
      } catch (err) {
        reasons.push(`the database cannot be read: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return reasons.length === 0 ? { ready: true } : { ready: false, reasons };
  }

  /** Runs `hook` when the service stops taking work, after the shutdown delay. */
  whenClosing(hook: () => void): void {
    this.#closing.push(hook);
  }

  /** Not ready from now on; after `delayMs`, runs the closing hooks. Then close the server. */
  async shutDown(delayMs = 0): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    if (delayMs > 0) await sleep(delayMs);
    for (const hook of this.#closing) hook();
  }
}
