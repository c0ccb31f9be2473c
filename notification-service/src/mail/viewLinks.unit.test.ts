import { expect } from 'chai';
import { ViewLinks } from './viewLinks.ts';

describe('A "view in your browser" link', () => {
  const links = new ViewLinks('https://shop.example/mail', 'a-secret-of-thirty-two-characters');
  const key = 'order-ORD-7K3M9-Q2XHD-confirmation';

  it('names the email and carries a token only the secret makes', () => {
    const url = new URL(links.urlFor(key));
    expect(url.href.startsWith(`https://shop.example/mail/view/${key}?t=`)).to.equal(true);
    const token = url.searchParams.get('t')!;
    expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(links.verify(key, token)).to.equal(true);
    expect(new ViewLinks('https://shop.example/mail', 'another-secret-of-32-characters!').verify(key, token)).to.equal(false);
  });

  it('refuses no token, a wrong one, a cut one and one of another order or kind', () => {
    const token = links.token(key);
    expect(links.verify(key, undefined)).to.equal(false);
    expect(links.verify(key, '')).to.equal(false);
    expect(links.verify(key, token.slice(0, -1))).to.equal(false);
    expect(links.verify(key, `${token}A`)).to.equal(false);
    expect(links.verify(key, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).to.equal(false);
    expect(links.verify('order-ORD-7K3M9-Q2XHD-dispatched', token)).to.equal(false);
    expect(links.verify('order-ORD-4F8WN-B2ZQC-confirmation', token)).to.equal(false);
  });
});
