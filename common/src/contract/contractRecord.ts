import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConsumedEntry, readFeedDocument } from '../consumer/atomReader.ts';
import { SHOP_NS } from '../feed/atomNamespaces.ts';
import { CONTRACT_FILE, type Producer, contractPath } from './contractExamples.ts';

/** The examples' sha256 as recorded under one contract version. */
export interface Fingerprint {
  readonly version: string;
  readonly sha256: string;
}

/**
 * A producer's `contract.json`: the contract version its examples are published under, and the
 * fingerprint of the examples under every version so far. A recorded fingerprint is never
 * rewritten, so examples that change under an unchanged version are always caught.
 */
export interface ContractRecord {
  readonly service: string;
  /** The entry namespace, whose last segment is the contract's major version. */
  readonly namespace: string;
  /** `major.minor`: a minor version adds to the contract, a major one breaks it (and needs a new namespace). */
  readonly version: string;
  /** The examples document, next to this file. */
  readonly examples: string;
  /** Oldest first; the last one is the current version's. */
  readonly fingerprints: readonly Fingerprint[];
}

export type ContractUpdate =
  | { readonly kind: 'unchanged'; readonly record: ContractRecord }
  | { readonly kind: 'recorded'; readonly record: ContractRecord; readonly how: 'first' | 'bumped' | 'set-by-hand' }
  | { readonly kind: 'refused'; readonly reason: string };

/** sha256 (hex) of an examples document's UTF-8 bytes. */
export function fingerprint(examplesXml: string): string {
  return createHash('sha256').update(examplesXml, 'utf8').digest('hex');
}

export function readContractRecord(service: Producer): ContractRecord {
  const raw = JSON.parse(readFileSync(contractPath(service, CONTRACT_FILE), 'utf8')) as Partial<ContractRecord>;
  const ok = typeof raw.service === 'string' && typeof raw.namespace === 'string' && typeof raw.version === 'string'
    && typeof raw.examples === 'string' && Array.isArray(raw.fingerprints)
    && raw.fingerprints.every((f) => typeof f?.version === 'string' && typeof f?.sha256 === 'string');
  if (!ok) throw new Error(`${service}/src/feed/contract/${CONTRACT_FILE} is not a contract record ({service, namespace, version, examples, fingerprints})`);
  return raw as ContractRecord;
}

export function formatContractRecord(record: ContractRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** The major version the namespace names (`urn:example:shop:feed:1` -> 1). */
export function namespaceMajor(namespace: string = SHOP_NS): number {
  return Number(/:(\d+)$/.exec(namespace)?.[1] ?? Number.NaN);
}

/**
 * Everything wrong with a contract record and its checked-in examples (empty when they agree):
 * the namespace, the version's shape and major, and above all the fingerprint of the examples
 * under the current version.
 */
export function contractProblems(record: ContractRecord, examplesXml: string): string[] {
  const problems = versionProblems(record);
  const versions = record.fingerprints.map((f) => f.version);
  for (let i = 1; i < versions.length; i++) {
    if (compareVersions(versions[i]!, versions[i - 1]!) <= 0) problems.push(`fingerprints must list versions oldest first, each newer than the one before (${versions[i - 1]} then ${versions[i]})`);
  }
  const current = record.fingerprints.at(-1);
  if (!current || current.version !== record.version) {
    problems.push(`contract version ${record.version} has no recorded fingerprint: run \`npm run contracts\` to record the examples under it`);
    return problems;
  }
  const now = fingerprint(examplesXml);
  if (now !== current.sha256) {
    problems.push(`the examples changed, but contract version ${record.version} was recorded with other examples `
      + `(sha256 ${current.sha256.slice(0, 12)}..., now ${now.slice(0, 12)}...). A change to what the feed publishes needs a new contract version: `
      + `bump it with \`npm run contracts -- --bump\` (or set "version" in contract.json by hand; a breaking change needs a new major and namespace), `
      + 'and update the consumers\' readers and tests that need it.');
  }
  return problems;
}

/**
 * What `npm run contracts` may do with freshly made examples: nothing when they are what the
 * current version recorded; record them under a version set by hand, or under the next minor
 * version with `bump`; otherwise refuse, so an accidental change never gets a fingerprint.
 */
export function planContractUpdate(record: ContractRecord, examplesXml: string, options: { readonly bump: boolean }): ContractUpdate {
  const wrong = versionProblems(record);
  if (wrong.length > 0) return { kind: 'refused', reason: wrong.join('; ') };
  const sha256 = fingerprint(examplesXml);
  const last = record.fingerprints.at(-1);
  const add = (version: string, how: 'first' | 'bumped' | 'set-by-hand'): ContractUpdate =>
    ({ kind: 'recorded', how, record: { ...record, version, fingerprints: [...record.fingerprints, { version, sha256 }] } });
  if (!last) return add(record.version, 'first');
  if (record.version !== last.version) {
    if (compareVersions(record.version, last.version) <= 0) {
      return { kind: 'refused', reason: `version ${record.version} in contract.json is not newer than ${last.version}, the last one recorded` };
    }
    return add(record.version, 'set-by-hand');
  }
  if (sha256 === last.sha256) return { kind: 'unchanged', record };
  const next = nextMinor(record.version);
  if (options.bump) return add(next, 'bumped');
  return {
    kind: 'refused',
    reason: `the examples changed, but contract version ${record.version} is recorded with other examples. If the change is meant, `
      + `make sure the consumers read the new entries, then run \`npm run contracts -- --bump\` to publish them as version ${next} `
      + '(or set "version" in contract.json by hand; a breaking change needs a new major version and namespace).',
  };
}

/** The entry types whose examples differ between two examples documents (added, removed or changed). */
export function changedEntryTypes(before: string, after: string): string[] {
  const read = (xml: string): Map<string, ConsumedEntry> => {
    try {
      return new Map(readFeedDocument(xml).entries.map((e) => [e.atomId, e]));
    } catch {
      return new Map();
    }
  };
  const [a, b] = [read(before), read(after)];
  const changed = new Set<string>();
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const [x, y] = [a.get(id), b.get(id)];
    if (JSON.stringify(x) !== JSON.stringify(y)) changed.add((y ?? x)!.type);
  }
  return [...changed].sort();
}

function versionProblems(record: ContractRecord): string[] {
  const problems: string[] = [];
  if (record.namespace !== SHOP_NS) problems.push(`contract.json names namespace ${record.namespace}, but the feeds publish ${SHOP_NS}`);
  if (!/^\d+\.\d+$/.test(record.version)) problems.push(`version "${record.version}" is not major.minor, e.g. "1.0"`);
  else if (Number(record.version.split('.')[0]) !== namespaceMajor()) {
    problems.push(`version ${record.version} does not belong to namespace ${SHOP_NS} (major ${namespaceMajor()}): a new major version needs a new namespace`);
  }
  return problems;
}

function compareVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

function nextMinor(version: string): string {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return `${major}.${minor + 1}`;
}
