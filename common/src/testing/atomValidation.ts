import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { validateXML } from 'xmllint-wasm';

const RNG = readFileSync(fileURLToPath(new URL('../../../atom/atom.rng', import.meta.url)), 'utf8');

/**
 * Validates an Atom feed or entry document against the RFC 4287 RELAX NG grammar and the two
 * rules the grammar leaves to Schematron. Returns the list of problems (empty when valid).
 */
export async function atomProblems(xml: string): Promise<string[]> {
  const result = await validateXML({ xml: [{ fileName: 'doc.xml', contents: xml }], schema: [{ fileName: 'atom.rng', contents: RNG }], extension: 'relaxng' });
  const problems = result.errors.map((e) => e.rawMessage);
  return [...problems, ...schematronProblems(xml)];
}

/** RFC 4287's two Schematron rules: authors present, and content or an alternate link on each entry. */
export function schematronProblems(xml: string): string[] {
  const parser = new XMLParser({ ignoreAttributes: false, removeNSPrefix: false, isArray: (name) => ['entry', 'link', 'author'].includes(name) });
  const doc = parser.parse(xml) as { feed?: AtomNode; entry?: AtomNode[] };
  const problems: string[] = [];
  const entries = doc.feed ? doc.feed.entry ?? [] : doc.entry ?? [];
  const feedHasAuthor = (doc.feed?.author?.length ?? 0) > 0;
  entries.forEach((e, i) => {
    const hasAuthor = (e.author?.length ?? 0) > 0 || (e.source?.author?.length ?? 0) > 0;
    if (!feedHasAuthor && !hasAuthor) problems.push(`entry ${i + 1} has no author and neither has its feed`);
    const hasAlternate = (e.link ?? []).some((l) => (l['@_rel'] ?? 'alternate') === 'alternate');
    if (e.content === undefined && !hasAlternate) problems.push(`entry ${i + 1} has neither content nor an alternate link`);
  });
  return problems;
}

interface AtomNode {
  author?: unknown[];
  entry?: AtomNode[];
  link?: Record<string, string>[];
  content?: unknown;
  source?: { author?: unknown[] };
}
