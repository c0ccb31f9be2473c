import { randomBytes } from 'node:crypto';
import type { Db } from '@shop/common';
import type { TemplateSet } from '../mail/templateSet.ts';

/** Where TemplateLibrary keeps the versions in use: this SQLite store, or PgTemplateStore. */
export interface TemplateVersions {
  /** The set in use for each kind, as last accepted (by this process or an earlier one). */
  inUse(): { set: TemplateSet; since: string }[];
  /** Records a set that passed its check as the one in use for its kind. */
  accept(set: TemplateSet, at: string): void;
}

/**
 * The template versions that passed their check, with their files, and which one of each kind is
 * in use: what a restart sends with when the files on disk are broken. Also the service's own
 * generated secrets.
 */
export class TemplateStore implements TemplateVersions {
  readonly #q;

  constructor(readonly db: Db) {
    this.#q = {
      version: db.prepare('INSERT INTO template_versions (name, version, files, accepted_at) VALUES (?, ?, ?, ?) ON CONFLICT (name, version) DO NOTHING'),
      use: db.prepare('INSERT INTO templates_in_use (name, version, since) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version, since = excluded.since'),
      inUse: db.prepare<[], { name: string; version: string; files: string; since: string }>(
        'SELECT u.name, u.version, v.files, u.since FROM templates_in_use u JOIN template_versions v USING (name, version) ORDER BY u.name'),
      setting: db.prepare<[string], { value: string }>('SELECT value FROM notification_settings WHERE name = ?'),
      initSetting: db.prepare('INSERT INTO notification_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    };
  }

  /** Records a set that passed its check as the one in use for its kind. */
  accept(set: TemplateSet, at: string): void {
    this.db.transaction(() => {
      this.#q.version.run(set.name, set.version, JSON.stringify(set.files), at);
      this.#q.use.run(set.name, set.version, at);
    }).immediate();
  }

  /** The set in use for each kind, as last accepted (by this process or an earlier one). */
  inUse(): { set: TemplateSet; since: string }[] {
    return this.#q.inUse.all().map((r) => ({ set: { name: r.name, version: r.version, files: JSON.parse(r.files) as Record<string, string> }, since: r.since }));
  }

  /**
   * A secret generated once and kept: the first caller's random value wins, so every process on
   * this database (the service, its command line) agrees on it.
   */
  generatedSecret(name: string): string {
    this.#q.initSetting.run(name, randomBytes(32).toString('base64url'));
    return this.#q.setting.get(name)!.value;
  }
}
