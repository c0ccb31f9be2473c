import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ConsumedEntry } from '../consumer/atomReader.ts';
import { CONTRACT_FILE, contractRelativePath, readExamples, readExamplesDocument, type Producer } from '../contract/contractExamples.ts';
import { changedEntryTypes, contractProblems, readContractRecord } from '../contract/contractRecord.ts';
import type { NewFeedEntry } from '../feed/feedEntry.ts';
import { Xhtml } from '../xml/xhtml.ts';
import { atomProblems } from './atomValidation.ts';

/**
 * The tests every producer runs on its feed contract examples: one of each type it publishes,
 * exactly what its code makes now, fingerprinted under the current contract version, valid Atom.
 * `generate` makes the examples document in memory, as `npm run contracts` does.
 */
export function describeFeedContract(o: { readonly service: Producer; readonly types: readonly string[]; readonly generate: () => string }): void {
  const file = contractRelativePath(o.service);
  describe(`The ${o.service} feed contract examples (${file})`, () => {
    it(`hold an example of every entry type the feed publishes (${o.types.join(', ')}), read back by common's Atom reader`, () => {
      const entries = readExamples(o.service);
      expect([...new Set(entries.map((e) => e.type))].sort()).to.deep.equal([...o.types].sort());
      expect(entries.map((e) => e.position)).to.deep.equal(entries.map((_, i) => i + 1));
    });

    it('are exactly what the service\'s code publishes now (else: npm run contracts)', () => {
      const checkedIn = readExamplesDocument(o.service);
      const now = o.generate();
      if (now !== checkedIn) {
        const types = changedEntryTypes(checkedIn, now);
        expect.fail(`${file} is not what ${o.service} publishes now (${types.length > 0 ? `${types.join(', ')} changed` : 'the document differs'}). `
          + 'Run `npm run contracts` to remake it; a change to the entries also needs a new contract version (`npm run contracts -- --bump`), '
          + `and the consumers' tests then read the new examples (see ${o.service}/README.md, "Contract examples").`);
      }
    });

    it('match the fingerprint recorded for the current contract version (else: bump the version)', () => {
      const problems = contractProblems(readContractRecord(o.service), readExamplesDocument(o.service));
      if (problems.length > 0) expect.fail(`${contractRelativePath(o.service, CONTRACT_FILE)}: ${problems.join(' ')}`);
    });

    it('are valid Atom (RFC 4287 grammar and rules)', async () => {
      expect(await atomProblems(readExamplesDocument(o.service))).to.deep.equal([]);
    });
  });
}

/**
 * A producer's example entries of one type (oldest first), optionally only those of one of the
 * examples' orders. Throws when there is none, so a test never runs on nothing.
 */
export function examplesOf(service: Producer, type: string, exampleOrderId?: string): readonly ConsumedEntry[] {
  const found = readExamples(service).filter((e) => e.type === type && (exampleOrderId === undefined || e.orderId === exampleOrderId));
  if (found.length === 0) throw new Error(`${contractRelativePath(service)} has no ${type} example${exampleOrderId ? ` for ${exampleOrderId}` : ''}`);
  return found;
}

/**
 * An example entry as a test feed appends it, re-addressed to `orderId` wherever the example's
 * order id appears (title, summary, XHTML, payload), with a new key. The shape stays the
 * producer's; `payload` overrides the top-level payload fields a test needs different.
 * `orderId` must be a plain id (letters, digits, dashes), as the order service makes them.
 */
export function exampleEntryFor(example: ConsumedEntry, orderId: string, payload: Readonly<Record<string, unknown>> = {}): NewFeedEntry {
  if (!/^[\w-]+$/.test(orderId)) throw new Error(`not a plain order id: ${orderId}`);
  const swap = (s: string): string => s.split(example.orderId).join(orderId);
  return {
    key: randomUUID(),
    type: example.type,
    // The reader does not keep the category label; the services' labels are their type in words.
    typeLabel: example.type.replace(/(?<=[a-z])([A-Z])/g, ' $1').replace(/ [A-Z]/g, (m) => m.toLowerCase()),
    title: swap(example.title),
    orderId,
    summary: swap(example.summary),
    content: Xhtml.trusted(swap(example.contentXhtml)),
    payload: { ...(JSON.parse(swap(JSON.stringify(example.payload))) as Record<string, unknown>), ...payload },
  };
}
