import { type FSWatcher, type Stats, readFileSync, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError } from '../config/env.ts';
import type { Logger } from '../log/logger.ts';
import { type Credential, parseCredentials } from './credentialParse.ts';

export interface CredentialFileOptions {
  readonly logger?: Logger;
  /** How often the file is also checked with stat() (default 2000 ms). */
  readonly pollMs?: number;
  /** Extra checks of a parsed list; problems reject it like a parse error. */
  readonly validate?: (list: readonly Credential[]) => string[];
  /** Receives each list read successfully, the first one synchronously from the constructor. */
  readonly onLoad: (list: readonly Credential[]) => void;
}

/**
 * A file of `name:secret` lines kept in step with the disk. The directory is watched (so an
 * editor's or `mv`'s replacement of the file is seen, not only writes in place) and the file is
 * also stat()ed every couple of seconds, for file systems where fs.watch says nothing (network
 * and container mounts). A version that cannot be read or parsed is logged as an error and the
 * previous list stays in force: a typo never opens the door nor locks everyone out. The first
 * read happens in the constructor and throws a ConfigError if it fails.
 */
export class CredentialFile {
  readonly #path: string;
  readonly #o: CredentialFileOptions;
  #seen = '';
  #watcher: FSWatcher | undefined;
  readonly #timer: NodeJS.Timeout;
  #debounce: NodeJS.Timeout | undefined;

  constructor(path: string, o: CredentialFileOptions) {
    this.#path = path;
    this.#o = o;
    const first = this.#read();
    if (!first.ok) throw new ConfigError(first.problems);
    o.onLoad(first.list);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
        if (name === null || String(name) === basename(path)) this.#soon();
      });
      this.#watcher.on('error', () => { this.#watcher?.close(); this.#watcher = undefined; });
    } catch {
      this.#watcher = undefined; // the periodic check still sees changes
    }
    this.#timer = setInterval(() => { if (this.#signature() !== this.#seen) this.reload(); }, o.pollMs ?? 2000);
    this.#timer.unref();
  }

  /** Reads the file again now; keeps the previous list if this version is broken. */
  reload(): void {
    const got = this.#read();
    if (got.ok) {
      this.#o.onLoad(got.list);
      this.#o.logger?.info('credentials file read', { file: this.#path, names: got.list.map((c) => c.name) });
    } else {
      this.#o.logger?.error('credentials file not applied: the previous list stays in force', { file: this.#path, problems: got.problems });
    }
  }

  close(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Several events arrive for one save: read once they settle. */
  #soon(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => { if (this.#signature() !== this.#seen) this.reload(); }, 50);
    this.#debounce.unref();
  }

  #signature(): string {
    let s: Stats;
    try { s = statSync(this.#path); } catch { return 'missing'; }
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  }

  #read(): { ok: true; list: readonly Credential[] } | { ok: false; problems: readonly string[] } {
    // The signature is taken before reading: a change during the read is seen at the next check.
    this.#seen = this.#signature();
    let text: string;
    try {
      text = readFileSync(this.#path, 'utf8');
    } catch (err) {
      return { ok: false, problems: [`cannot read ${this.#path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`] };
    }
    const parsed = parseCredentials(text, 'lines', this.#path);
    if (!parsed.ok) return parsed;
    const more = this.#o.validate?.(parsed.credentials).map((p) => `${this.#path}: ${p}`) ?? [];
    return more.length > 0 ? { ok: false, problems: more } : { ok: true, list: parsed.credentials };
  }
}
