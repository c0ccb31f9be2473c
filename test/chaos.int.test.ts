import { expect } from 'chai';
import { tempDir } from '@shop/common/testing';
import { runChaos } from '../scripts/src/system/chaos.ts';

// The small version of `npm run chaos`: four real processes, SIGKILLed at random while orders
// flow, then an audit for loss, duplicates, gaps and rewritten archives.
describe('The whole system under SIGKILL (small crash test)', function () {
  this.timeout(240_000);
  const dir = process.env['CHAOS_DIR'] ? { path: process.env['CHAOS_DIR'], remove: () => undefined } : tempDir('atom-shop-chaos-');
  after(() => dir.remove());

  it('loses nothing, doubles nothing and never rewrites an archive', async () => {
    const report = await runChaos({
      orders: 40, dataDir: dir.path, basePort: 4201, killEveryMs: 700, concurrency: 4, ratePerSecond: 6,
      cancelEvery: 8, settleTimeoutMs: 150_000, log: () => undefined,
    });
    expect(report.problems).to.deep.equal([]);
    expect(report.counts['kills'], 'services were killed while orders flowed').to.be.greaterThan(3);
    expect(report.counts['paid, uncancelled orders']).to.equal(35);
    expect(report.counts['confirmation emails']).to.be.at.least(35);
  });
});
