import type { Xhtml } from '../xml/xhtml.ts';

/**
 * What a service hands the feed for one public entry: its own, pre-formatted view of a fact.
 * This is the public contract (see the service READMEs), never the internal event itself.
 */
export interface NewFeedEntry {
  /** A UUID, fixed forever: the entry's atom:id is `urn:uuid:{key}` and its URL `/feed/entries/{key}`. */
  readonly key: string;
  /** The event type, an atom:category term in the service's scheme, e.g. `OrderPlaced`. */
  readonly type: string;
  /** A human label for the type, e.g. `Order placed`. */
  readonly typeLabel: string;
  readonly title: string;
  /** The correlation key every service shares: the id the order API returned. */
  readonly orderId: string;
  /** Plain text, ready for a text email or a feed reader's list. */
  readonly summary: string;
  /** Pre-formatted XHTML, ready to drop into an email or a page. */
  readonly content: Xhtml;
  /** Machine-readable facts (JSON), versioned with the contract; consumers read these, never prose. */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** An entry as committed: its place in the feed and its commit time are now fixed. */
export interface StoredFeedEntry {
  readonly position: number;
  readonly key: string;
  readonly type: string;
  readonly typeLabel: string;
  readonly title: string;
  readonly orderId: string;
  readonly summary: string;
  readonly contentXhtml: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** RFC 3339, millisecond precision, UTC; never earlier than the entry before. */
  readonly updated: string;
}
