import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Eta } from 'eta';

/** The three files that make one kind of email; everything else in the directory is shared (the layout, partials). */
export const PARTS = [
  { part: 'subject', suffix: '.subject.txt' },
  { part: 'html', suffix: '.html' },
  { part: 'text', suffix: '.txt' },
] as const;
export type Part = (typeof PARTS)[number]['part'];

/** The template files as read from disk at one moment: file name -> contents. */
export type TemplateFiles = ReadonlyMap<string, string>;

/**
 * One kind's templates, frozen: its own three files and every shared file, with the version that
 * names exactly these contents. An email records the version it was made from.
 */
export interface TemplateSet {
  /** The file prefix: `confirmation` for confirmation.subject.txt, .html and .txt. */
  readonly name: string;
  /** sha256 of the files' names and contents, first 12 hex digits. */
  readonly version: string;
  readonly files: Readonly<Record<string, string>>;
}

/** Reads every template file of a directory (not README.md, hidden or temporary files). */
export function readTemplateDir(dir: string): TemplateFiles {
  const files = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!isTemplateFile(name)) continue;
    const path = join(dir, name);
    try {
      if (statSync(path).isFile()) files.set(name, readFileSync(path, 'utf8'));
    } catch {
      // Removed between the listing and the read (an editor saving by rename): the next look sees it.
    }
  }
  return files;
}

function isTemplateFile(name: string): boolean {
  return /\.(html|txt)$/.test(name) && !name.startsWith('.') && !/~$|\.(swp|tmp)$/.test(name) && name.toLowerCase() !== 'readme.md';
}

/** The kinds of email the files describe: one per `<name>.subject.txt`. */
export function setNames(files: TemplateFiles): string[] {
  return [...files.keys()].filter((f) => f.endsWith('.subject.txt')).map((f) => f.slice(0, -'.subject.txt'.length)).sort();
}

/** True when any of the set's own files is in `files`. */
export function hasSet(files: TemplateFiles, name: string): boolean {
  return PARTS.some((p) => files.has(`${name}${p.suffix}`));
}

/** The file name of one part of a set. */
export function partFile(name: string, part: Part): string {
  return `${name}${PARTS.find((p) => p.part === part)!.suffix}`;
}

/**
 * The set called `name` as found in `files`: its own parts (those present) and every file that
 * belongs to none of the sets `names` (the layout and partials, which any set may use).
 */
export function templateSetOf(files: TemplateFiles, name: string, names: readonly string[] = setNames(files)): TemplateSet {
  const own = (f: string) => PARTS.some((p) => f === `${name}${p.suffix}`);
  const another = (f: string) => names.some((n) => n !== name && PARTS.some((p) => f === `${n}${p.suffix}`));
  const picked = Object.fromEntries([...files].filter(([f]) => own(f) || !another(f)).sort(([a], [b]) => a.localeCompare(b)));
  return { name, version: versionOf(picked), files: picked };
}

export function versionOf(files: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(files).sort()) h.update(name).update('\0').update(files[name]!).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** Where the in-memory files seem to live, for Eta; stripped from its messages. */
const ROOT = '/templates';

export interface RenderedParts {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Told the file about to be compiled or rendered (so a render that never ends can be blamed on it). */
export type OnFile = (file: string) => void;

/**
 * Renders a set from its frozen files, never from disk, so a file broken on disk later cannot
 * touch it. HTML escapes what it prints (a customer's name is text, never markup); text does not.
 * Templates are code: only ever render one in the template worker (templateSandbox.ts).
 */
export class CompiledTemplateSet {
  readonly #html: Eta;
  readonly #text: Eta;

  constructor(readonly set: TemplateSet, private readonly onFile: OnFile = () => undefined) {
    const readFile = (path: string): string => {
      const name = path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
      const found = set.files[name];
      if (found === undefined) throw new TemplateProblem(name, `${name} is missing`);
      this.onFile(name);
      return found;
    };
    this.#html = new Eta({ views: ROOT, cache: true, autoEscape: true, debug: true });
    this.#text = new Eta({ views: ROOT, cache: true, autoEscape: false, autoTrim: false, debug: true });
    this.#html.readFile = readFile;
    this.#text.readFile = readFile;
  }

  /** Compiles every file on its own, so a syntax error names the file it is in. Throws a TemplateProblem. */
  compileAll(): void {
    for (const [name, source] of Object.entries(this.set.files)) {
      const eta = name.endsWith('.txt') ? this.#text : this.#html;
      this.onFile(name);
      attempt(name, () => eta.compile(source));
    }
  }

  /** Renders the three parts; a part that throws becomes a TemplateProblem naming its file. */
  render(data: object): RenderedParts {
    const name = this.set.name;
    const part = <T>(p: Part, fn: () => T): T => { this.onFile(partFile(name, p)); return attempt(partFile(name, p), fn); };
    const subject = part('subject', () => this.#text.render(partFile(name, 'subject'), data)).replace(/\s+/g, ' ').trim();
    const html = part('html', () => this.#html.render(partFile(name, 'html'), { ...data, subject }));
    const text = part('text', () => this.#text.render(partFile(name, 'text'), data)).replace(/\n{3,}/g, '\n\n');
    return { subject, html, text };
  }
}

/** A template that cannot be used, and the file to look at. Its message is for marketing. */
export class TemplateProblem extends Error {
  override name = 'TemplateProblem';
  constructor(readonly file: string, message: string) {
    super(message);
  }
}

function attempt<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TemplateProblem) throw err;
    throw new TemplateProblem(file, `${file}: ${readable(err instanceof Error ? err.message : String(err))}`);
  }
}

/** Eta's message without the generated code it appends to a syntax error, and without the virtual root. */
function readable(message: string): string {
  const cut = message.indexOf('\n====');
  const head = (cut >= 0 ? message.slice(0, cut) : message).replaceAll(`${ROOT}/`, '').trim();
  return head.startsWith('Bad template syntax') ? `${head.replace(/\s*\n\s*/g, ': ')} (JavaScript inside a <% %> tag, or a tag not closed where it should be)` : head;
}
