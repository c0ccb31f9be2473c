import { expect } from 'chai';
import { benchPlacementRow } from './placementRow.ts';

// A smoke test of the benchmark harness: the row's shape only, never its numbers.
describe('npm run bench', () => {
  it('measures a row side by side and reports it in the BenchRow shape', async () => {
    const [row] = await benchPlacementRow({ seconds: 0.2, rounds: 1, connections: 2 });
    expect(row).to.have.all.keys('name', 'subject', 'baseline', 'unit', 'ratio', 'target', 'pass', 'note');
    expect(row!.subject).to.be.greaterThan(0);
    expect(row!.baseline).to.be.greaterThan(0);
    expect(row!.ratio).to.be.closeTo(row!.subject / row!.baseline, 1e-9);
    expect(row!.pass).to.be.a('boolean');
  });
});
