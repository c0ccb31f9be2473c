'use strict';
// Mocha's spec reporter, closed by the line CI reads: "N passed, N failed, N skipped".
// A suite skipped by requirePeer (common/src/testing/peers.ts) says why under its title, and
// again before the closing line; every test it holds counts as skipped.
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { color } = Mocha.reporters.Base;
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_HOOK_END } = Mocha.Runner.constants;
const SKIP_REASON = Symbol.for('atom-shop.skipReason');

function skipReason(runnable) {
  for (let s = runnable.parent; s; s = s.parent) if (s[SKIP_REASON]) return s[SKIP_REASON];
  return undefined;
}

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedBecause = new Map();
    runner.on(EVENT_TEST_PASS, () => { passed += 1; });
    runner.on(EVENT_TEST_FAIL, () => { failed += 1; });
    runner.on(EVENT_TEST_PENDING, (test) => {
      skipped += 1;
      const reason = skipReason(test);
      if (reason) skippedBecause.set(reason, (skippedBecause.get(reason) ?? 0) + 1);
    });
    // A before-all hook that skipped its suite: the note goes where the suite's tests will be listed.
    runner.on(EVENT_HOOK_END, (hook) => {
      const reason = hook.pending && hook.parent && hook.parent[SKIP_REASON];
      if (reason) process.stdout.write(`${'  '.repeat(hook.parent.titlePath().length + 1)}${color('pending', `skipped: ${reason}`)}\n`);
    });
    runner.once(EVENT_RUN_END, () => {
      if (skippedBecause.size > 0) process.stdout.write('\n');
      for (const [reason, n] of skippedBecause) process.stdout.write(`${n} skipped: ${reason}\n`);
      process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    });
  }
}
module.exports = SummaryReporter;
