import { expect } from 'chai';
import { escapeAttr, escapeText } from './escape.ts';
import { Xhtml, el, fragment } from './xhtml.ts';

describe('XML escaping', () => {
  it('escapes markup characters in text', () => {
    expect(escapeText('<script>alert(1)</script> & "Bob"')).to.equal('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Bob"');
  });

  it('escapes quotes and whitespace controls in attributes', () => {
    expect(escapeAttr(`a"b'c\n<`)).to.equal('a&quot;b&#39;c&#10;&lt;');
  });

  it('drops characters XML 1.0 cannot carry, keeping the rest', () => {
    expect(escapeText('a\u0000b\u0007c\uFFFEd\tq')).to.equal('abcd\tq');
  });

  it('keeps a valid surrogate pair and drops a lone surrogate', () => {
    expect(escapeText('😀')).to.equal('😀');
    expect(escapeText('x\uD800y')).to.equal('xy');
  });
});

describe('el (the safe XHTML builder)', () => {
  it('escapes text children and attribute values', () => {
    const out = el('p', { title: '"><img>' }, '<b>bold?</b>').toString();
    expect(out).to.equal('<p title="&quot;&gt;&lt;img&gt;">&lt;b&gt;bold?&lt;/b&gt;</p>');
  });

  it('nests fragments without escaping them twice', () => {
    expect(el('div', null, el('em', null, 'a & b'), ' ', 3).toString()).to.equal('<div><em>a &amp; b</em> 3</div>');
  });

  it('omits false, null and undefined children and attributes', () => {
    expect(el('td', { colspan: undefined, class: false }, null, false, 'x').toString()).to.equal('<td>x</td>');
  });

  it('flattens arrays and fragments', () => {
    expect(fragment(['a', el('br', null)], Xhtml.trusted('<i>t</i>')).toString()).to.equal('a<br/><i>t</i>');
  });
});
