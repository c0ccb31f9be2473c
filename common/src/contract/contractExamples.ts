import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Db, type Migration, migrate, openDatabase } from '../db/database.ts';
import { type ConsumedEntry, readFeedDocument } from '../consumer/atomReader.ts';
import { renderFeed } from '../feed/atomWriter.ts';
import type { StoredFeedEntry } from '../feed/feedEntry.ts';
import { FeedStore } from '../feed/feedStore.ts';

/**
 * The services that publish a feed, in the order their contract examples are made: each one's
 * examples are made by reading the examples of those before it, as its consumers would.
 */
export const PRODUCERS = ['order-service', 'billing-service', 'shipping-service'] as const;
export type Producer = (typeof PRODUCERS)[number];

export const EXAMPLES_FILE = 'examples.atom.xml';
export const CONTRACT_FILE = 'contract.json';

const REPO_ROOT = new URL('../../../', import.meta.url);

/** Where a producer keeps its contract examples and contract record: next to its `toFeedEntry.ts`. */
export function contractPath(service: Producer, file: string = EXAMPLES_FILE): string {
  return fileURLToPath(new URL(`${service}/src/feed/contract/${file}`, REPO_ROOT));
}

/** The same path relative to the repository root, for messages. */
export function contractRelativePath(service: Producer, file: string = EXAMPLES_FILE): string {
  return `${service}/src/feed/contract/${file}`;
}

/** The checked-in examples document of a producer, as its bytes. */
export function readExamplesDocument(service: Producer): string {
  return readFileSync(contractPath(service), 'utf8');
}

/**
 * A producer's checked-in example entries, oldest first, read with the real Atom reader
 * (exactly what a consumer gets from the live feed).
 */
export function readExamples(service: Producer): readonly ConsumedEntry[] {
  return readFeedDocument(readExamplesDocument(service)).entries;
}

/** A clock the example generator sets by hand, so every timestamp in the examples is fixed. */
export interface ExampleClock {
  readonly now: () => Date;
  set(iso: string): void;
}

/**
 * Everything a producer's real code needs to publish examples: a migrated in-memory database,
 * its real feed store, a fixed clock and fixed ids (UUIDs numbered 1, 2, 3... per service).
 */
export interface ExampleWorld {
  readonly db: Db;
  readonly feed: FeedStore;
  readonly clock: ExampleClock;
  readonly newId: () => string;
}

/**
 * @param idDigit a digit 1-9 that starts every id of this service, so atom:ids never collide
 *   across the feeds' examples.
 */
export function exampleWorld(migrations: readonly Migration[], options: { readonly idDigit: number; readonly start: string }): ExampleWorld {
  let now = new Date(options.start);
  const clock: ExampleClock = {
    now: () => now,
    set: (iso) => {
      const next = new Date(iso);
      if (Number.isNaN(next.getTime()) || next < now) throw new Error(`the example clock only moves forward: ${now.toISOString()} -> ${iso}`);
      now = next;
    },
  };
  const db = openDatabase(':memory:');
  migrate(db, migrations);
  const feed = new FeedStore(db, { pageSize: 1000, now: clock.now });
  let n = 0;
  const newId = (): string => `${options.idDigit}0000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  return { db, feed, clock, newId };
}

/**
 * Renders every entry of the example world's feed, newest first as a feed carries them, as one
 * Atom document written by common's real Atom writer, and closes the world.
 */
export function renderExamples(service: Producer, world: ExampleWorld, baseUrl: string): string {
  const entries: StoredFeedEntry[] = [];
  for (let p = world.feed.head().openPage.page; p >= 1; p--) entries.push(...world.feed.entriesOf(world.feed.page(p)!));
  world.db.close();
  const newest = entries[0];
  if (!newest) throw new Error(`${service} published no example entries`);
  return renderFeed({
    feedId: `urn:example:shop:contract-examples:${service}`,
    title: `${service}: feed entry contract examples`,
    author: service,
    baseUrl,
    updated: newest.updated,
    links: [],
    archive: false,
    entries,
  });
}

/** The moment `ms` milliseconds after an RFC 3339 instant. */
export function later(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}
