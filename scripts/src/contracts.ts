/**
 * `npm run contracts [-- --bump]`: remakes every producer's feed contract examples with its real
 * code and writes them next to its toFeedEntry.ts (src/feed/contract/examples.atom.xml), with
 * their fingerprint in contract.json.
 *
 * Examples that changed under an unchanged contract version are refused (nothing is written for
 * that service, exit 1) unless `--bump` is given (the next minor version is recorded) or the
 * version in contract.json was changed by hand. Producers are made in PRODUCERS order, each
 * reading the examples just written for those before it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  CONTRACT_FILE, PRODUCERS, type Producer, changedEntryTypes, contractPath, formatContractRecord, planContractUpdate, readContractRecord,
} from '@shop/common/contract';
import { billingFeedExamples } from '../../billing-service/src/feed/contract/examples.ts';
import { orderFeedExamples } from '../../order-service/src/feed/contract/examples.ts';
import { shippingFeedExamples } from '../../shipping-service/src/feed/contract/examples.ts';

const GENERATORS: Record<Producer, () => string> = {
  'order-service': () => orderFeedExamples(),
  'billing-service': () => billingFeedExamples(),
  'shipping-service': () => shippingFeedExamples(),
};

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--bump');
if (unknown.length > 0) {
  console.error(`unknown argument ${unknown.join(' ')}; usage: npm run contracts [-- --bump]`);
  process.exit(2);
}
const bump = args.includes('--bump');

let refused = 0;
for (const service of PRODUCERS) {
  const examplesFile = contractPath(service);
  const before = existsSync(examplesFile) ? readFileSync(examplesFile, 'utf8') : '';
  let after: string;
  try {
    after = GENERATORS[service]();
  } catch (err) {
    // Most likely it can no longer read the examples of a producer before it.
    refused++;
    console.error(`${service}: NOT written: its code could not make its examples: ${(err as Error).message}`);
    continue;
  }
  const plan = planContractUpdate(readContractRecord(service), after, { bump });
  const changed = before === '' || before === after ? [] : changedEntryTypes(before, after);
  const what = changed.length > 0 ? ` (${changed.join(', ')} changed)` : '';
  switch (plan.kind) {
    case 'unchanged':
      if (before !== after) writeFileSync(examplesFile, after);
      console.log(`${service}: contract ${plan.record.version}, examples unchanged${before !== after ? ' (file restored)' : ''}`);
      break;
    case 'recorded':
      writeFileSync(examplesFile, after);
      writeFileSync(contractPath(service, CONTRACT_FILE), formatContractRecord(plan.record));
      console.log(`${service}: examples recorded as contract version ${plan.record.version}${what}${plan.how === 'first' ? '' : '; update the consumers that need it'}`);
      break;
    case 'refused':
      refused++;
      console.error(`${service}: NOT written${what}: ${plan.reason}`);
      break;
    default:
      plan satisfies never;
  }
}
if (refused > 0) {
  console.error(`\n${refused} producer(s) refused: nothing was written for them.`);
  process.exit(1);
}
