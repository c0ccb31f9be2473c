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
  readonly nextArchive: string | undefined;
  /** Oldest first (the reverse of the document order). */
  readonly entries: readonly ConsumedEntry[];
  /** The newest position left out unread because the reader asked only from a later one (0: none). */
  readonly skippedThrough: number;
  /** The oldest position left out unread (0: none). */
  readonly skippedFrom: number;
}

/** What a walk back needs of a page: where it sits in the feed and where the older page is. */
export interface FeedPageScan {
  readonly feedId: string;
  readonly archive: boolean;
  readonly prevArchive: string | undefined;
  /** The oldest and newest positions on the page (0 when it has no entries). */
  readonly firstPosition: number;
  readonly lastPosition: number;
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
export function readFeedDocument(whole: string, options: { readonly fromPosition?: number } = {}): FeedDocumentRead {
  if (/<!DOCTYPE/i.test(whole) || /<!ENTITY/i.test(whole)) throw new FeedFormatError('the document has a DOCTYPE or ENTITY declaration; refused');
  const { xml, skippedThrough, skippedFrom } = withoutEntriesBefore(whole, options.fromPosition ?? 0);
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
  const href = (rel: string): string | undefined => {
    const h = links.find((l) => l['@_rel'] === rel)?.['@_href'];
    return typeof h === 'string' ? h : undefined;
  };
  const rawEntries = arrayOf(feed['entry']);
  const entries = rawEntries.map((e, i) => readEntry(e, i, shop));
  entries.sort((a, b) => a.position - b.position);
  return {
    feedId,
    archive: fh !== undefined && feed[`${fh}archive`] !== undefined,
    prevArchive: href('prev-archive'),
    nextArchive: href('next-archive'),
    entries,
    skippedThrough,
    skippedFrom,
  };
}

/**
 * Reads only what a walk back needs: the feed's id, the page's links and the range of positions
 * on it. Plain entries are cut out unparsed (as for old entries in readFeedDocument), so a walk
 * over thousands of pages costs little more than their transfer; the forward read that follows
 * parses and checks every entry it applies.
 */
export function scanFeedPage(whole: string): FeedPageScan {
  const doc = readFeedDocument(whole, { fromPosition: Number.MAX_SAFE_INTEGER });
  const parsed = doc.entries.map((e) => e.position);
  const first = Math.min(...parsed, doc.skippedFrom || Number.POSITIVE_INFINITY);
  const last = Math.max(...parsed, doc.skippedThrough);
  return { feedId: doc.feedId, archive: doc.archive, prevArchive: doc.prevArchive, firstPosition: Number.isFinite(first) ? first : 0, lastPosition: last };
}

/**
 * Cuts out, unparsed, the entries a reader already has: a consumer re-reads the subscription
 * document each time it changes, and parsing every entry of a full page for the one new entry
 * costs more than everything else in a poll. Only un-prefixed `<entry>` elements (what our
 * publisher writes) are cut; anything else falls back to reading the whole document. What is
 * left is validated as a document in full, so a cut in the wrong place fails loudly.
 */
function withoutEntriesBefore(xml: string, fromPosition: number): { xml: string; skippedThrough: number; skippedFrom: number } {
  const none = { xml, skippedThrough: 0, skippedFrom: 0 };
  if (fromPosition <= 1) return none;
  const prefix = /^[\s\S]*?<feed\b[^>]*\sxmlns:([A-Za-z_][\w.-]*)="urn:example:shop:feed:1"/.exec(xml)?.[1];
  if (prefix === undefined || /<[A-Za-z_][\w.-]*:entry[\s>\/]|<entry[\s\/]/.test(xml)) return none;
  const positionOf = new RegExp(`<${prefix}:position>(\\d+)</${prefix}:position>`, 'g');
  const kept: string[] = [];
  let skippedThrough = 0;
  let skippedFrom = 0;
  let from = 0;
  for (let start = xml.indexOf('<entry>'); start !== -1; start = xml.indexOf('<entry>', from)) {
    const end = xml.indexOf('</entry>', start);
    if (end === -1) return none;
    kept.push(xml.slice(from, start));
    const entry = xml.slice(start, end + '</entry>'.length);
    // Skip unread only what is plainly an old entry: exactly one position, and no CDATA or
    // comment that could hide markup. Anything else is kept and parsed in full.
    const found = [...entry.matchAll(positionOf)];
    const position = found.length === 1 && !entry.includes('<![CDATA[') && !entry.includes('<!--') ? Number(found[0]![1]) : Number.NaN;
    if (position >= fromPosition || Number.isNaN(position)) kept.push(entry);
    else {
      skippedThrough = Math.max(skippedThrough, position);
      skippedFrom = skippedFrom === 0 ? position : Math.min(skippedFrom, position);
    }
    from = end + '</entry>'.length;
  }
  kept.push(xml.slice(from));
  return { xml: kept.join(''), skippedThrough, skippedFrom };
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
