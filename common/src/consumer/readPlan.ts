import type { ConsumedEntry, FeedDocumentRead } from './atomReader.ts';

/** A feed that cannot be read forward safely: the position stays, an operator must look. */
export class FeedConsistencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedConsistencyError';
  }
}

/** The newest position a page holds, read or skipped (0: none). */
export function newestOf(doc: FeedDocumentRead): number {
  return Math.max(doc.entries.at(-1)?.position ?? 0, doc.skippedThrough);
}

/** The oldest position a page holds, read or skipped (0: none). */
export function firstOf(doc: FeedDocumentRead): number {
  const read = doc.entries[0]?.position ?? 0;
  return doc.skippedFrom > 0 ? doc.skippedFrom : read;
}

/** True while the walk back has not yet reached the page holding the entry after `position`. */
export function needsOlderPage(oldest: FeedDocumentRead, position: number): boolean {
  if (oldest.skippedThrough > 0) return false; // it holds entries before our position: we have reached it
  const first = oldest.entries[0];
  return first === undefined || first.position > position + 1;
}

/**
 * Given the pages read newest first (the subscription document, then archives via prev-archive),
 * returns the entries after `position`, oldest first, after checking that the feed still holds
 * the entry we processed last and that positions run on without a gap.
 */
export function entriesAfter(pagesNewestFirst: readonly FeedDocumentRead[], position: number, lastAtomId: string | null): ConsumedEntry[] {
  const all = [...pagesNewestFirst].reverse().flatMap((p) => p.entries);
  const newest = Math.max(all.at(-1)?.position ?? 0, ...pagesNewestFirst.map((p) => p.skippedThrough));
  if (newest < position) {
    throw new FeedConsistencyError(`the feed ends at position ${newest} but this subscription has read up to ${position} (last entry ${lastAtomId}): was the feed replaced? Reset the subscription if so`);
  }
  const mine = all.find((e) => e.position === position);
  if (position > 0 && mine && lastAtomId !== null && mine.atomId !== lastAtomId) {
    throw new FeedConsistencyError(`entry id not found: position ${position} holds ${mine.atomId}, not ${lastAtomId}, the last entry processed`);
  }
  const oldest = all[0]?.position;
  if (oldest !== undefined && oldest > position + 1) {
    throw new FeedConsistencyError(position === 0
      ? `the oldest entry the feed still links to is at position ${oldest}: entries 1 to ${oldest - 1} are missing`
      : `entry id not found: the last entry processed (${lastAtomId}, position ${position}) and the entries after it are no longer in the feed, which now starts at ${oldest}`);
  }
  const next = all.filter((e) => e.position > position);
  next.forEach((e, i) => {
    if (e.position !== position + 1 + i) {
      throw new FeedConsistencyError(`the feed has a gap or a duplicate: expected position ${position + 1 + i}, found ${e.position} (${e.atomId})`);
    }
  });
  return next;
}
