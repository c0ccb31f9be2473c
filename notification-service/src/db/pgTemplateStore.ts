import type { Logger } from '@shop/common';
import type { PgPool } from '@shop/common/pg';
import type { TemplateSet } from '../mail/templateSet.ts';
import type { TemplateVersions } from './templateStore.ts';

/**
 * TemplateStore on PostgreSQL, shared by the instances: the versions in use are read once at
 * start (TemplateLibrary asks synchronously), and each accepted version is written as it is
 * accepted, without holding up the check that accepted it.
 */
export class PgTemplateStore implements TemplateVersions {
  readonly #inUse: { set: TemplateSet; since: string }[];
  #writing: Promise<void> = Promise.resolve();

  private constructor(private readonly pool: PgPool, private readonly logger: Logger, inUse: { set: TemplateSet; since: string }[]) {
    this.#inUse = inUse;
  }

  static async load(pool: PgPool, logger: Logger): Promise<PgTemplateStore> {
    const r = await pool.query<{ name: string; version: string; files: string; since: string }>(
      'SELECT u.name, u.version, v.files, u.since FROM templates_in_use u JOIN template_versions v USING (name, version) ORDER BY u.name');
    return new PgTemplateStore(pool, logger, r.rows.map((row) => ({ set: { name: row.name, version: row.version, files: JSON.parse(row.files) as Record<string, string> }, since: row.since })));
  }

  inUse(): { set: TemplateSet; since: string }[] { return [...this.#inUse]; }

  accept(set: TemplateSet, at: string): void {
    const i = this.#inUse.findIndex((u) => u.set.name === set.name);
    if (i >= 0) this.#inUse.splice(i, 1);
    this.#inUse.push({ set, since: at });
    // In order, so the last version accepted is the one recorded.
    this.#writing = this.#writing.then(() => this.#write(set, at)).catch((err: unknown) => {
      this.logger.error('could not record the template version in use', { template: set.name, version: set.version, err });
    });
  }

  /** Resolves once every accepted version is written. */
  flushed(): Promise<void> { return this.#writing; }

  async #write(set: TemplateSet, at: string): Promise<void> {
    await this.pool.query(
      `WITH v AS (INSERT INTO template_versions (name, version, files, accepted_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name, version) DO NOTHING)
       INSERT INTO templates_in_use (name, version, since) VALUES ($1, $2, $4) ON CONFLICT (name) DO UPDATE SET version = excluded.version, since = excluded.since`,
      [set.name, set.version, JSON.stringify(set.files), at]);
  }
}
