import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ATOM_NS, EVENT_TYPE_SCHEME, HISTORY_NS, SHOP_NS } from '../feed/atomNamespaces.ts';

/** An entry as read from a feed. */
export interface ConsumedEntry {
  /** The entry's atom:id, e.g. `urn:uuid:…`; never changes. */
  readonly atomId: string;
  /** The UUID of `urn:uuid:KEY` (the whole id when it is not a urn:uuid). */
  readonly key: string;
  /** `<shop:position>`: 1, 2, 3… with no gaps across the feed. */
  readonly position: number;
  /** The category term in the scheme `urn:example:shop:event-type`, e.g. `OrderPlaced`. */
  readonly type: string;
  /** `<shop:orderId>`: the id the order API returned. */
  readonly orderId: string;
  readonly title: string;
  readonly summary: string;
  /** The inner XML of the content's xhtml `div`, raw, as published. */
  readonly contentXhtml: string;
  /** The JSON object of `<shop:payload>`. */
  readonly payload: Record<string, unknown>;
  readonly updated: string;
}

/** One feed document (subscription or archive) as the consumer needs it. */
export interface FeedDocumentRead {
  readonly feedId: string;
  readonly archive: boolean;
  readonly prevArchive: string | undefined;
  /** Oldest first (the reverse of the document order). */
  readonly entries: readonly ConsumedEntry[];
}

/** Why a document was refused: the read position never moves past one of these. */
export class FeedFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedFormatError';
  }
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => ['entry', 'link', 'category', 'author'].includes(name),
  stopNodes: ['feed.entry.content'],
});

/**
 * Parses an Atom feed document defensively: refuses a DOCTYPE (no entity tricks), checks
 * well-formedness before parsing (the parser alone is lenient) and checks every entry carries
 * what the shop contract promises. Namespace prefixes are resolved from the root's declarations.
 */
export function readFeedDocument(xml: string): FeedDocumentRead {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new FeedFormatError('the document has a DOCTYPE or ENTITY declaration; refused');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new FeedFormatError(`the document is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch (err) {
    throw new FeedFormatError(`the document could not be parsed: ${(err as Error).message}`);
  }
  const feed = doc['feed'];
  if (!isNode(feed) || feed['@_xmlns'] !== ATOM_NS) throw new FeedFormatError('the document is not an Atom feed (no <feed> root in the Atom namespace)');
  const shop = prefixFor(feed, SHOP_NS);
  const fh = prefixFor(feed, HISTORY_NS);
  const feedId = text(feed['id']);
  if (!feedId) throw new FeedFormatError('the feed has no atom:id');
  const links = arrayOf(feed['link']);
  const prev = links.find((l) => l['@_rel'] === 'prev-archive');
  const rawEntries = arrayOf(feed['entry']);
  const entries = rawEntries.map((e, i) => readEntry(e, i, shop));
  entries.sort((a, b) => a.position - b.position);
  return {
    feedId,
    archive: fh !== undefined && feed[`${fh}archive`] !== undefined,
    prevArchive: typeof prev?.['@_href'] === 'string' ? prev['@_href'] : undefined,
    entries,
  };
}

function readEntry(e: Node, index: number, shop: string | undefined): ConsumedEntry {
  const where = `entry ${index + 1}`;
  const atomId = text(e['id']);
  if (!atomId) throw new FeedFormatError(`${where} has no atom:id`);
  const at = `${where} (${atomId})`;
  if (shop === undefined) throw new FeedFormatError(`the feed does not declare the shop namespace ${SHOP_NS}`);
  const positionText = text(e[`${shop}position`]);
  if (!/^[1-9]\d{0,14}$/.test(positionText)) throw new FeedFormatError(`${at} has no valid shop:position`);
  const category = arrayOf(e['category']).find((c) => c['@_scheme'] === EVENT_TYPE_SCHEME);
  const type = typeof category?.['@_term'] === 'string' ? category['@_term'] : '';
  if (!type) throw new FeedFormatError(`${at} has no event-type category`);
  const orderId = text(e[`${shop}orderId`]);
  if (!orderId) throw new FeedFormatError(`${at} has no shop:orderId`);
  let payload: unknown;
  try {
    payload = JSON.parse(text(e[`${shop}payload`]));
  } catch {
    throw new FeedFormatError(`${at} has a shop:payload that is not JSON`);
  }
  if (!isNode(payload) || Array.isArray(payload)) throw new FeedFormatError(`${at} has a shop:payload that is not a JSON object`);
  return {
    atomId,
    key: atomId.startsWith('urn:uuid:') ? atomId.slice('urn:uuid:'.length) : atomId,
    position: Number(positionText),
    type,
    orderId,
    title: text(e['title']),
    summary: text(e['summary']),
    contentXhtml: xhtmlInner(e['content']),
    payload,
    updated: text(e['updated']),
  };
}

/** The raw markup inside `<content type="xhtml"><div …>…</div></content>`. */
function xhtmlInner(content: unknown): string {
  if (!isNode(content)) return '';
  const raw = typeof content['#text'] === 'string' ? content['#text'] : '';
  const m = /^\s*<div\b[^>]*>([\s\S]*)<\/div>\s*$/.exec(raw);
  if (m) return m[1]!;
  return /^\s*<div\b[^>]*\/>\s*$/.test(raw) ? '' : raw;
}

function prefixFor(root: Node, ns: string): string | undefined {
  for (const [k, v] of Object.entries(root)) {
    if (v === ns && k.startsWith('@_xmlns:')) return `${k.slice('@_xmlns:'.length)}:`;
  }
  return root['@_xmlns'] === ns ? '' : undefined;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  if (isNode(v) && typeof v['#text'] === 'string') return v['#text'].trim();
  return '';
}

function arrayOf(v: unknown): Node[] {
  return Array.isArray(v) ? v.filter(isNode) : isNode(v) ? [v] : [];
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null;
}
