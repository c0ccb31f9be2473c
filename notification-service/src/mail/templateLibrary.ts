import { type FSWatcher, watch } from 'node:fs';
import { ConfigError, type Logger } from '@shop/common';
import type { TemplateVersions } from '../db/templateStore.ts';
import type { SampleEmail } from './sampleEmails.ts';
import { TemplateSandbox } from './templateSandbox.ts';
import { hasSet, readTemplateDir, type RenderedParts, setNames, type TemplateFiles, type TemplateSet, templateSetOf } from './templateSet.ts';

/** How long a template may take to render (a check: all of its samples); then it is stopped and fails. */
export const TEMPLATE_TIME_LIMIT_MS = 2000;

/** Why the files on disk for one kind are not used. */
export interface TemplateError {
  readonly file: string;
  readonly message: string;
  readonly at: string;
}

/** One kind of email's templates: the version emails are made from, and what is on disk now. */
export interface TemplateStatus {
  readonly name: string;
  /** The version in use (null: none ever passed, so emails of this kind use the plain built-in form). */
  readonly inUse: { readonly version: string; readonly since: string } | null;
  readonly onDisk: { readonly version: string | null; readonly checkedAt: string; readonly error: TemplateError | null };
  /** Sample emails of this kind it was checked with. */
  readonly samples: number;
}

/** A template in use that failed for one real email (which then went out in the plain built-in form). */
export interface RenderFailure {
  readonly name: string;
  readonly version: string;
  readonly orderId: string;
  readonly message: string;
  readonly at: string;
}

/** Thrown at start when some kind of email has broken files and no earlier version passed. */
export class NoUsableTemplates extends ConfigError {
  constructor(problems: readonly string[]) {
    super(problems);
    this.message = `no usable email templates:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    this.name = 'NoUsableTemplates';
  }
}

interface Entry {
  inUse: { set: TemplateSet; since: string } | undefined;
  onDisk: { version: string | null; checkedAt: string; error: TemplateError | null };
}

export interface TemplateLibraryOptions {
  readonly dir: string;
  /** What each kind is checked with; a kind without samples is only compiled. */
  readonly samples: readonly SampleEmail[];
  /** Where accepted versions are kept across restarts; none: in memory only. */
  readonly store?: TemplateVersions;
  readonly logger?: Logger;
  readonly now?: () => Date;
  /** How long the directory must be quiet after a change before it is checked (an editor writes in bursts). */
  readonly debounceMs?: number;
  /** How long one rendering (or one set's whole check) may take: TEMPLATE_TIME_LIMIT_MS by default. */
  readonly timeLimitMs?: number;
}

/**
 * The email templates as the service uses them: each kind's last version that passed its check
 * (in memory and, with a store, in the database), and why the files on disk are not used when
 * they are not. A change on disk is checked as it happens (`watch()`), or on `refresh()`.
 * Templates are code: they are checked and rendered in a worker (TemplateSandbox), with an empty
 * environment and a time limit, never in the service's own thread.
 */
export class TemplateLibrary {
  readonly #entries = new Map<string, Entry>();
  readonly #failures: RenderFailure[] = [];
  readonly #now: () => Date;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: TemplateLibraryOptions) {
    this.#now = o.now ?? (() => new Date());
    TemplateSandbox.checks.warmUp();
    TemplateSandbox.sends.warmUp();
  }

  get #limitMs(): number { return this.o.timeLimitMs ?? TEMPLATE_TIME_LIMIT_MS; }

  /**
   * Checks the files at start. A kind whose files fail keeps the version stored as in use; a kind
   * with neither stops the start (NoUsableTemplates), saying what is wrong with which file.
   */
  load(): this {
    for (const { set, since } of this.o.store?.inUse() ?? []) {
      this.#entry(set.name).inUse = { set, since };
    }
    this.refresh();
    const unusable = [...this.#entries].filter(([, e]) => !e.inUse).map(([name, e]) =>
      `${name}: ${e.onDisk.error?.message ?? 'no templates'}; no earlier version of the ${name} templates passed its check, so there is nothing to send ${name} emails with. Fix the file in ${this.o.dir}.`);
    if (unusable.length > 0) throw new NoUsableTemplates(unusable);
    return this;
  }

  /** Reads the directory again and checks every kind whose files changed. */
  refresh(): void {
    let files: TemplateFiles;
    try {
      files = readTemplateDir(this.o.dir);
    } catch (err) {
      this.o.logger?.error('templates not readable', { dir: this.o.dir, error: (err as Error).message });
      files = new Map();
    }
    const names = [...new Set([...setNames(files), ...this.#entries.keys(), ...this.o.samples.map((s) => s.kind)])].sort();
    for (const name of names) this.#check(name, files, names);
  }

  #check(name: string, files: TemplateFiles, names: readonly string[]): void {
    const entry = this.#entry(name);
    const at = this.#now().toISOString();
    const onDisk = hasSet(files, name);
    const set = templateSetOf(files, name, names);
    const version = onDisk ? set.version : null;
    if (entry.onDisk.checkedAt !== '' && entry.onDisk.version === version) return;
    const check = onDisk
      ? TemplateSandbox.checks.check(set, this.samplesOf(name), this.#limitMs)
      : { ok: false as const, file: `${name}.subject.txt`, error: `there are no ${name} templates (${name}.subject.txt, .html, .txt) in the directory` };
    if (check.ok) {
      const previous = entry.inUse?.set.version ?? null;
      if (previous !== set.version) {
        entry.inUse = { set, since: at };
        this.o.store?.accept(set, at);
        this.o.logger?.info('template accepted', { template: name, version: set.version, previous, samples: check.samplesRendered });
      }
      entry.onDisk = { version, checkedAt: at, error: null };
      return;
    }
    entry.onDisk = { version, checkedAt: at, error: { file: check.file, message: check.error, at } };
    this.o.logger?.error('template rejected', { template: name, version, file: check.file, error: check.error, inUse: entry.inUse?.set.version ?? null });
  }

  #entry(name: string): Entry {
    let e = this.#entries.get(name);
    if (!e) this.#entries.set(name, e = { inUse: undefined, onDisk: { version: null, checkedAt: '', error: null } });
    return e;
  }

  /** Checks the directory whenever something in it changes, once it has been quiet for a moment. */
  watch(): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(this.o.dir, () => {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.refresh(), this.o.debounceMs ?? 250);
      });
    } catch (err) {
      // A missing directory: the versions in use go on; /templates and /status still look when asked.
      this.o.logger?.error('templates not watched', { dir: this.o.dir, error: (err as Error).message });
      return;
    }
    this.#watcher.on('error', (err) => this.o.logger?.error('templates not watched', { dir: this.o.dir, error: err.message }));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** The set emails of this kind are made from (a kind's files are named after it: `<kind>.html`...). */
  inUse(kind: string): TemplateSet | undefined {
    return this.#entries.get(kind)?.inUse?.set;
  }

  /** Renders an email with a set, in the worker for sends; throws a TemplateProblem when it fails or takes too long. */
  render(set: TemplateSet, data: object): RenderedParts {
    return TemplateSandbox.sends.render(set, data, this.#limitMs);
  }

  /** Renders a page (a preview, a "view in your browser" page) with a set, in the worker for checks and pages, as `render`. */
  renderPage(set: TemplateSet, data: object): RenderedParts {
    return TemplateSandbox.checks.render(set, data, this.#limitMs);
  }

  /** Every kind known from the files, the database and the samples, by name. */
  names(): string[] {
    return [...this.#entries.keys()].sort();
  }

  samplesOf(kind: string): SampleEmail[] {
    return this.o.samples.filter((s) => s.kind === kind);
  }

  status(): TemplateStatus[] {
    return this.names().map((name) => {
      const e = this.#entries.get(name)!;
      return {
        name,
        inUse: e.inUse ? { version: e.inUse.set.version, since: e.inUse.since } : null,
        onDisk: e.onDisk,
        samples: this.samplesOf(name).length,
      };
    });
  }

  /** Records a template in use failing for a real email (shown on /status until the process restarts; the last 20). */
  failed(what: Omit<RenderFailure, 'at'>): void {
    const failure = { ...what, at: this.#now().toISOString() };
    this.#failures.push(failure);
    if (this.#failures.length > 20) this.#failures.shift();
    this.o.logger?.error('template failed for an email; sent in the plain built-in form', { ...failure });
  }

  renderFailures(): readonly RenderFailure[] { return [...this.#failures]; }
}
