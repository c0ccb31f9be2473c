import { expect } from 'chai';
import { SHOP_NS } from '../feed/atomNamespaces.ts';
import { type ContractRecord, contractProblems, fingerprint, planContractUpdate } from './contractRecord.ts';

const V1 = '<feed>one</feed>';
const V2 = '<feed>two</feed>';
const recorded = (version: string, ...fingerprints: [string, string][]): ContractRecord => ({
  service: 'order-service', namespace: SHOP_NS, version, examples: 'examples.atom.xml',
  fingerprints: fingerprints.map(([v, xml]) => ({ version: v, sha256: fingerprint(xml) })),
});

describe('A feed contract record', () => {
  describe('checked by the producer\'s tests', () => {
    it('agrees with examples whose fingerprint is the current version\'s', () => {
      expect(contractProblems(recorded('1.1', ['1.0', V1], ['1.1', V2]), V2)).to.deep.equal([]);
    });
    it('catches examples that changed under an unchanged version, and says to bump it', () => {
      const problems = contractProblems(recorded('1.0', ['1.0', V1]), V2);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/contract version 1\.0 was recorded with other examples/).and.match(/npm run contracts -- --bump/);
    });
    it('catches a version set by hand that has no fingerprint yet', () => {
      expect(contractProblems(recorded('1.1', ['1.0', V1]), V1)[0]).to.match(/1\.1 has no recorded fingerprint: run `npm run contracts`/);
    });
    it('catches a version whose major is not the namespace\'s, and versions out of order', () => {
      expect(contractProblems(recorded('2.0', ['2.0', V1]), V1)[0]).to.match(/a new major version needs a new namespace/);
      expect(contractProblems(recorded('1.0', ['1.1', V2], ['1.0', V1]), V1)[0]).to.match(/oldest first/);
    });
  });

  describe('updated by npm run contracts', () => {
    it('changes nothing when the examples are the current version\'s', () => {
      expect(planContractUpdate(recorded('1.0', ['1.0', V1]), V1, { bump: false }).kind).to.equal('unchanged');
    });
    it('refuses examples that changed under an unchanged version', () => {
      const plan = planContractUpdate(recorded('1.0', ['1.0', V1]), V2, { bump: false });
      expect(plan.kind).to.equal('refused');
      expect(plan.kind === 'refused' && plan.reason).to.match(/--bump` to publish them as version 1\.1/);
    });
    it('records them under the next minor version with --bump, keeping the old fingerprints', () => {
      const plan = planContractUpdate(recorded('1.0', ['1.0', V1]), V2, { bump: true });
      expect(plan).to.deep.include({ kind: 'recorded', how: 'bumped' });
      expect(plan.kind === 'recorded' && plan.record).to.deep.include({ version: '1.1', fingerprints: [{ version: '1.0', sha256: fingerprint(V1) }, { version: '1.1', sha256: fingerprint(V2) }] });
    });
    it('records them under a newer version set by hand, and refuses an older one', () => {
      const plan = planContractUpdate(recorded('1.3', ['1.0', V1]), V2, { bump: false });
      expect(plan.kind === 'recorded' && [plan.how, plan.record.version, plan.record.fingerprints.length]).to.deep.equal(['set-by-hand', '1.3', 2]);
      expect(planContractUpdate(recorded('0.9', ['1.0', V1]), V2, { bump: true }).kind).to.equal('refused');
    });
    it('refuses a major version the namespace does not name', () => {
      expect(planContractUpdate(recorded('2.0', ['1.0', V1]), V2, { bump: false }).kind).to.equal('refused');
    });
  });
});
