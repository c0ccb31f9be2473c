import { createHash } from 'node:crypto';
import { type ConsumedEntry, readFeedDocument } from '@shop/common';
import { request } from 'undici';

export interface FeedWalk {
  /** Every entry, oldest first. */
  readonly entries: readonly ConsumedEntry[];
  /** sha256 of each complete archive's bytes, by URL. */
  readonly archives: ReadonlyMap<string, string>;
  /** What is wrong with the feed's order: gaps, repeats, entries out of order. */
  readonly problems: readonly string[];
}

async function fetchText(url: string): Promise<{ status: number; text: string; hash: string }> {
  const res = await request(url, { headers: { accept: 'application/atom+xml', 'accept-encoding': 'identity' }, headersTimeout: 10_000, bodyTimeout: 30_000 });
  const buf = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, text: buf.toString('utf8'), hash: createHash('sha256').update(buf).digest('hex') };
}

/** Reads a whole feed from its subscription document back through prev-archive, and checks its order. */
export async function walkFeed(feedUrl: string): Promise<FeedWalk> {
  const docs: ConsumedEntry[][] = [];
  const archives = new Map<string, string>();
  let url: string | undefined = feedUrl;
  while (url) {
    const got = await fetchText(url);
    if (got.status !== 200) throw new Error(`${url} answered ${got.status}`);
    const doc = readFeedDocument(got.text);
    if (doc.archive) archives.set(url, got.hash);
    docs.unshift([...doc.entries]);
    url = doc.prevArchive;
  }
  const entries = docs.flat();
  const problems: string[] = [];
  entries.forEach((e, i) => {
    if (e.position !== i + 1) problems.push(`${feedUrl}: entry ${i + 1} has position ${e.position} (gap or disorder)`);
  });
  const ids = new Set(entries.map((e) => e.atomId));
  if (ids.size !== entries.length) problems.push(`${feedUrl}: ${entries.length - ids.size} entries repeat an atom:id`);
  return { entries, archives, problems };
}

/** Remembers the first bytes seen for every archive URL and reports any that later differ. */
export class ArchiveWitness {
  readonly #first = new Map<string, string>();
  readonly problems: string[] = [];

  record(archives: ReadonlyMap<string, string>): void {
    for (const [url, hash] of archives) {
      const seen = this.#first.get(url);
      if (seen === undefined) this.#first.set(url, hash);
      else if (seen !== hash) this.problems.push(`${url} changed: ${seen.slice(0, 12)} then ${hash.slice(0, 12)}`);
    }
  }

  get count(): number { return this.#first.size; }
}
