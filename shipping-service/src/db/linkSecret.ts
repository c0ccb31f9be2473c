import { randomBytes } from 'node:crypto';
import type { Db } from '@shop/common';

/**
 * The key download links are signed with: DOWNLOAD_LINK_SECRET when set, else one generated once
 * and kept in shipping's database, so links already emailed keep working after a restart. The
 * first caller's random value wins, so every process on this database (the service, its command
 * line) agrees on it. Processes on different databases must be given the same DOWNLOAD_LINK_SECRET.
 */
export function downloadLinkSecret(db: Db, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  db.prepare('INSERT OR IGNORE INTO shipping_settings (name, value) VALUES (?, ?)').run('download-link-secret', randomBytes(32).toString('base64url'));
  return db.prepare<[string], { value: string }>('SELECT value FROM shipping_settings WHERE name = ?').get('download-link-secret')!.value;
}
