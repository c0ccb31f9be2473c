import { expect } from 'chai';
import { Credentials, parseCredentials, presentedSecret } from './credentials.ts';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ALICE = 'alice-secret-0123456789';
const BOB = 'bob-secret-0123456789ab';

describe('Credentials', () => {
  describe('parseCredentials', () => {
    it('reads name:secret items from a comma-separated list, trimming spaces', () => {
      const r = parseCredentials(` alice:${ALICE} , bob:${BOB},`, 'list', 'FEED_READERS');
      expect(r).to.deep.equal({ ok: true, credentials: [{ name: 'alice', secret: ALICE }, { name: 'bob', secret: BOB }] });
    });

    it('reads one per line from a file, skipping blank lines and # comments, and keeps colons in secrets', () => {
      const r = parseCredentials(`# readers of the order feed\n\nalice:${ALICE}\r\n  # bob left\nbilling:${BOB}:with:colons\n`, 'lines', 'readers.txt');
      expect(r).to.deep.equal({ ok: true, credentials: [{ name: 'alice', secret: ALICE }, { name: 'billing', secret: `${BOB}:with:colons` }] });
    });

    it('names every problem by position and name, never by secret', () => {
      const r = parseCredentials(`alice:${ALICE},no-colon-here,alice:${BOB},bad name:${BOB},carol:short,dave:${ALICE}`, 'list', 'FEED_READERS');
      expect(r.ok).to.equal(false);
      const problems = r.ok ? [] : r.problems;
      expect(problems).to.deep.equal([
        'FEED_READERS: item 2 is not name:secret',
        'FEED_READERS: item 3 repeats the name "alice"',
        'FEED_READERS: item 4 has a bad name (letters, digits, . _ @ - only, at most 64)',
        'FEED_READERS: the secret of "carol" must be at least 16 characters, without spaces',
        'FEED_READERS: the secret of "dave" is also another name\'s secret',
      ]);
      for (const p of problems) expect(p).not.to.include(ALICE).and.not.to.include(BOB);
    });
  });

  describe('presentedSecret', () => {
    it('takes a Bearer token, or the password of HTTP Basic whatever the user name', () => {
      expect(presentedSecret(`Bearer ${ALICE}`)).to.equal(ALICE);
      expect(presentedSecret(`bearer  ${ALICE} `)).to.equal(ALICE);
      expect(presentedSecret(basic('alice', ALICE))).to.equal(ALICE);
      expect(presentedSecret(basic('anyone at all', `${ALICE}:x`))).to.equal(`${ALICE}:x`);
    });

    it('finds nothing in a missing, empty, malformed or other-scheme header', () => {
      for (const h of [undefined, '', 'Bearer', `Token ${ALICE}`, `Bearer ${ALICE} extra`, basic('alice', ''), `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
        expect(presentedSecret(h), String(h)).to.equal(undefined);
      }
    });
  });

  describe('check', () => {
    const set = Credentials.of('reader', [{ name: 'alice', secret: ALICE }, { name: '(cache)', secret: BOB, cache: true }]);

    it('names who presents a known secret, by Bearer or Basic', () => {
      expect(set.check(`Bearer ${ALICE}`)).to.deep.equal({ kind: 'reader', name: 'alice' });
      expect(set.check(basic('whoever', ALICE))).to.deep.equal({ kind: 'reader', name: 'alice' });
      expect(set.check(`Bearer ${BOB}`)).to.deep.equal({ kind: 'reader', name: '(cache)', cache: true });
    });

    it('refuses an unknown secret, a prefix of a known one, a name in place of the secret, and nothing', () => {
      for (const h of [`Bearer ${ALICE}x`, `Bearer ${ALICE.slice(0, -1)}`, basic(ALICE, 'alice'), undefined]) {
        expect(set.check(h), String(h)).to.equal(undefined);
      }
    });

    it('is open only when nothing is configured', () => {
      expect(new Credentials('operator').protected).to.equal(false);
      expect(set.protected).to.equal(true);
      expect(set.names()).to.deep.equal(['alice', '(cache)']);
    });
  });
});
