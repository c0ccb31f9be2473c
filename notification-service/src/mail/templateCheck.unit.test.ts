import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { sampleEmails } from './sampleEmails.ts';
import { checkTemplateSet } from './templateCheck.ts';
import { readTemplateDir, setNames, templateSetOf } from './templateSet.ts';

const files = readTemplateDir(fileURLToPath(new URL('../../templates', import.meta.url)));
const samples = sampleEmails({ missingPartAfterMs: 15 * 60_000, onMissingPart: 'wait' });
const without = (name: string) => new Map([...files].filter(([f]) => f !== name));
const changed = (name: string, content: string) => new Map([...files, [name, content]]);

describe('Checking a template set with the sample emails', () => {
  it('has samples made by the policy from the producers\' example orders, for every kind it sends', () => {
    const kinds = new Set(samples.map((s) => s.kind));
    expect([...kinds]).to.include.members(['confirmation', 'dispatched']);
    expect(samples.filter((s) => s.kind === 'confirmation').some((s) => s.data.missing.length > 0), 'a confirmation sent without a part').to.equal(true);
  });

  it('passes every set shipped in templates/ with every sample of its kind', () => {
    for (const name of setNames(files)) {
      const ofKind = samples.filter((s) => s.kind === name);
      const check = checkTemplateSet(templateSetOf(files, name), ofKind);
      expect(check, name).to.deep.include({ ok: true, samplesRendered: ofKind.length });
    }
  });

  it('refuses a set with a file missing, naming it', () => {
    expect(checkTemplateSet(templateSetOf(without('confirmation.txt'), 'confirmation'), samples.filter((s) => s.kind === 'confirmation')))
      .to.deep.include({ ok: false, file: 'confirmation.txt' });
  });

  it('refuses HTML that prints a value that does not exist, but not one that merely looks like it', () => {
    const ofKind = samples.filter((s) => s.kind === 'dispatched');
    const html = files.get('dispatched.html')!;
    const bad = checkTemplateSet(templateSetOf(changed('dispatched.html', html.replace('<%= it.trackingNumber %>', '<%= it.tracking %>')), 'dispatched'), ofKind);
    expect(bad).to.deep.include({ ok: false, file: 'dispatched.html' });
    const fine = checkTemplateSet(templateSetOf(changed('dispatched.html', `${html}<p>Never undefinedly late.</p>`), 'dispatched'), ofKind);
    expect(fine.ok).to.equal(true);
  });
});
