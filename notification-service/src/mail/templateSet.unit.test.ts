import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { CompiledTemplateSet, readTemplateDir, setNames, TemplateProblem, templateSetOf } from './templateSet.ts';

const files = (entries: Record<string, string>) => new Map(Object.entries(entries));
const base = {
  'layout.html': '<html><%~ it.body %></html>',
  'a.subject.txt': 'A <%= it.orderId %>', 'a.html': "<% layout('layout.html') %>A <%= it.orderId %>", 'a.txt': 'A <%= it.orderId %>',
  'b.subject.txt': 'B', 'b.html': 'B', 'b.txt': 'B',
};

describe('A template set', () => {
  it('is one kind\'s three files and the shared ones, found by their subject file', () => {
    expect(setNames(files(base))).to.deep.equal(['a', 'b']);
    expect(Object.keys(templateSetOf(files(base), 'a').files)).to.deep.equal(['a.html', 'a.subject.txt', 'a.txt', 'layout.html']);
  });

  it('has a version that changes with its own files and the shared ones, not with another kind\'s', () => {
    const v = templateSetOf(files(base), 'a').version;
    expect(v).to.match(/^[0-9a-f]{12}$/);
    expect(templateSetOf(files({ ...base, 'b.txt': 'B!' }), 'a').version).to.equal(v);
    expect(templateSetOf(files({ ...base, 'layout.html': '<html><%~ it.body %>!</html>' }), 'a').version).to.not.equal(v);
    expect(templateSetOf(files({ ...base, 'a.txt': 'A! <%= it.orderId %>' }), 'a').version).to.not.equal(v);
  });

  it('renders from its own copy of the files, escaping HTML but not the subject or the text', () => {
    const set = new CompiledTemplateSet(templateSetOf(files({ ...base, 'a.txt': '<%= it.orderId %> & co' }), 'a'));
    expect(set.render({ orderId: '<O-1>' })).to.deep.equal({ subject: 'A <O-1>', html: '<html>A &lt;O-1&gt;</html>', text: '<O-1> & co' });
  });

  it('names the file a syntax error is in, the shared layout included', () => {
    const set = new CompiledTemplateSet(templateSetOf(files({ ...base, 'layout.html': '<html><%~ it.body %</html>' }), 'a'));
    expect(() => set.compileAll()).to.throw(TemplateProblem, /^layout\.html: unclosed tag at line 1/).with.property('file', 'layout.html');
  });

  it('reads the template files of a directory, not its README or an editor\'s leftovers', () => {
    const dir = tempDir();
    try {
      for (const f of ['README.md', 'a.subject.txt', 'a.html', '.a.html.swp', 'a.txt~', 'notes.tmp']) writeFileSync(join(dir.path, f), 'x');
      mkdirSync(join(dir.path, 'old.html'));
      expect([...readTemplateDir(dir.path).keys()]).to.deep.equal(['a.html', 'a.subject.txt']);
    } finally {
      dir.remove();
    }
  });
});
