import { escapeAttr, escapeText } from '../xml/escape.ts';
import { APP_NS, ATOM_CONTRACT_VERSION, ATOM_NS, EVENT_TYPE_SCHEME, HISTORY_NS, SHOP_NS, XHTML_NS } from './atomNamespaces.ts';
import type { StoredFeedEntry } from './feedEntry.ts';

export interface AtomLink {
  readonly rel: string;
  readonly href: string;
  readonly type?: string;
  readonly title?: string;
}

export interface FeedDocument {
  readonly feedId: string;
  readonly title: string;
  readonly author: string;
  readonly baseUrl: string;
  readonly updated: string;
  readonly links: readonly AtomLink[];
  /** True for an RFC 5005 archive document (adds `<fh:archive/>`). */
  readonly archive: boolean;
  /** Newest first. */
  readonly entries: readonly StoredFeedEntry[];
}

const DECL = '<?xml version="1.0" encoding="utf-8"?>\n';
const ROOT_NS = `xmlns="${ATOM_NS}" xmlns:fh="${HISTORY_NS}" xmlns:shop="${SHOP_NS}"`;

/** Renders a feed document (subscription or archive). Pure: same input, same bytes. */
export function renderFeed(doc: FeedDocument): string {
  const parts = [
    DECL,
    `<feed ${ROOT_NS}>\n`,
    `  <id>${escapeText(doc.feedId)}</id>\n`,
    `  <title type="text">${escapeText(doc.title)}</title>\n`,
    `  <updated>${doc.updated}</updated>\n`,
    `  <author><name>${escapeText(doc.author)}</name></author>\n`,
    `  <generator version="${ATOM_CONTRACT_VERSION}">atom-shop</generator>\n`,
    ...doc.links.map((l) => `  ${renderLink(l)}\n`),
    doc.archive ? '  <fh:archive/>\n' : '',
    ...doc.entries.map((e) => renderEntry(e, doc.baseUrl, '  ')),
    '</feed>\n',
  ];
  return parts.join('');
}

/** Renders one entry as a standalone Atom entry document. */
export function renderEntryDocument(entry: StoredFeedEntry, baseUrl: string, author: string, feedId: string): string {
  const inner = renderEntry(entry, baseUrl, '', { author, feedId });
  return `${DECL}${inner.replace(/^<entry>/, `<entry ${ROOT_NS}>`)}`;
}

/** The URL path of an entry's own document. */
export function entryPath(key: string): string {
  return `/feed/entries/${encodeURIComponent(key)}`;
}

function renderEntry(e: StoredFeedEntry, baseUrl: string, pad: string, standalone?: { author: string; feedId: string }): string {
  const href = `${baseUrl}${entryPath(e.key)}`;
  const p = `${pad}  `;
  return [
    `${pad}<entry>\n`,
    `${p}<id>urn:uuid:${escapeText(e.key)}</id>\n`,
    `${p}<title type="text">${escapeText(e.title)}</title>\n`,
    `${p}<published>${e.updated}</published>\n`,
    `${p}<updated>${e.updated}</updated>\n`,
    standalone ? `${p}<author><name>${escapeText(standalone.author)}</name></author>\n` : '',
    `${p}${renderLink({ rel: 'alternate', type: 'text/html', href })}\n`,
    `${p}${renderLink({ rel: 'self', type: 'application/atom+xml;type=entry', href })}\n`,
    `${p}<category scheme="${EVENT_TYPE_SCHEME}" term="${escapeAttr(e.type)}" label="${escapeAttr(e.typeLabel)}"/>\n`,
    standalone ? `${p}<source><id>${escapeText(standalone.feedId)}</id></source>\n` : '',
    `${p}<summary type="text">${escapeText(e.summary)}</summary>\n`,
    `${p}<content type="xhtml"><div xmlns="${XHTML_NS}">${e.contentXhtml}</div></content>\n`,
    `${p}<shop:orderId>${escapeText(e.orderId)}</shop:orderId>\n`,
    `${p}<shop:position>${e.position}</shop:position>\n`,
    `${p}<shop:payload type="application/json">${escapeText(JSON.stringify(e.payload))}</shop:payload>\n`,
    `${pad}</entry>\n`,
  ].join('');
}

function renderLink(l: AtomLink): string {
  const type = l.type ? ` type="${escapeAttr(l.type)}"` : '';
  const title = l.title ? ` title="${escapeAttr(l.title)}"` : '';
  return `<link rel="${escapeAttr(l.rel)}"${type} href="${escapeAttr(l.href)}"${title}/>`;
}

/** Renders the AtomPub service document listing the feed as a read-only collection. */
export function renderServiceDocument(opts: { baseUrl: string; workspace: string; title: string; categories: readonly string[] }): string {
  return [
    DECL,
    `<service xmlns="${APP_NS}" xmlns:atom="${ATOM_NS}">\n`,
    '  <workspace>\n',
    `    <atom:title type="text">${escapeText(opts.workspace)}</atom:title>\n`,
    `    <collection href="${escapeAttr(`${opts.baseUrl}/feed`)}">\n`,
    `      <atom:title type="text">${escapeText(opts.title)}</atom:title>\n`,
    '      <accept/>\n',
    `      <categories fixed="yes" scheme="${EVENT_TYPE_SCHEME}">\n`,
    ...opts.categories.map((c) => `        <atom:category term="${escapeAttr(c)}"/>\n`),
    '      </categories>\n',
    '    </collection>\n',
    '  </workspace>\n',
    '</service>\n',
  ].join('');
}
