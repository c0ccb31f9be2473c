/**
 * Contracts as code (`@shop/common/contract`): each producer keeps example entries made by its
 * real code next to its `toFeedEntry.ts`, fingerprinted per contract version; consumers test
 * their readers against them. `npm run contracts` regenerates them.
 */
export {
  CONTRACT_FILE, EXAMPLES_FILE, PRODUCERS, contractPath, contractRelativePath, exampleWorld, later, readExamples, readExamplesDocument, renderExamples,
  type ExampleClock, type ExampleWorld, type Producer,
} from './contractExamples.ts';
export {
  changedEntryTypes, contractProblems, fingerprint, formatContractRecord, namespaceMajor, planContractUpdate, readContractRecord,
  type ContractRecord, type ContractUpdate, type Fingerprint,
} from './contractRecord.ts';
