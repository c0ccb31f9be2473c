import { expect } from 'chai';
import { afterFailure, classifyFailure, recipientAddressProblem, retryDelayMs, type RetryPolicy } from './deliveryFailure.ts';

const POLICY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 10, jitter: 0.2 };
const smtpError = (responseCode: number, code = 'EMESSAGE') => Object.assign(new Error(`${responseCode} refused`), { responseCode, code });
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:25`), { code });

describe('A failed delivery', () => {
  describe('is classified like a mail server would', () => {
    it('takes an SMTP 5xx reply as permanent', () => {
      for (const code of [550, 551, 553, 554]) expect(classifyFailure(smtpError(code, 'EENVELOPE')), String(code)).to.deep.include({ permanent: true, connection: false });
    });
    it('takes an SMTP 4xx reply as temporary', () => {
      for (const code of [421, 450, 451, 452]) expect(classifyFailure(smtpError(code)).permanent, String(code)).to.equal(false);
    });
    it('takes a refused login as temporary although it is a 5xx, and as the transport\'s: it is our configuration, not the email', () => {
      expect(classifyFailure(smtpError(535, 'EAUTH'))).to.deep.include({ permanent: false, connection: true });
    });
    it('takes a 4xx about the message or a recipient as the email\'s own, not the transport\'s', () => {
      for (const code of [450, 451, 452]) expect(classifyFailure(smtpError(code)), String(code)).to.deep.include({ permanent: false, connection: false });
    });
    it('takes a server it cannot reach (refused, timed out, no such host, closing) as temporary, for every email', () => {
      for (const code of ['ESOCKET', 'ECONNECTION', 'ETIMEDOUT', 'EDNS', 'ECONNREFUSED']) {
        expect(classifyFailure(socketError(code)), code).to.deep.include({ permanent: false, connection: true });
      }
      expect(classifyFailure(smtpError(421))).to.deep.include({ permanent: false, connection: true });
    });
    it('takes anything unknown (a full disk, a thrown string) as temporary, with its message', () => {
      expect(classifyFailure(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }))).to.deep.equal({ permanent: false, connection: false, message: 'ENOSPC: no space left on device' });
      expect(classifyFailure('boom')).to.deep.equal({ permanent: false, connection: false, message: 'boom' });
    });
  });

  describe('is tried again after a backoff of its own', () => {
    it('waits 30 s, then doubles each time up to an hour', () => {
      const middle = () => 0.5;
      expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => retryDelayMs(n, POLICY, middle) / 1000)).to.deep.equal([30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    });
    it('spreads each wait by ±20% at random', () => {
      expect(retryDelayMs(1, POLICY, () => 0)).to.equal(24_000);
      expect(retryDelayMs(1, POLICY, () => 0.999_999)).to.be.closeTo(36_000, 1);
      expect(retryDelayMs(20, POLICY, () => 0)).to.equal(2_880_000);
    });
    it('gives the time of the next try, and gives up after the last of its tries', () => {
      const now = new Date('2025-06-10T09:00:00Z');
      const temporary = classifyFailure(smtpError(451));
      expect(afterFailure(temporary, 1, POLICY, now, () => 0.5)).to.deep.equal({ kind: 'retry', at: new Date('2025-06-10T09:00:30Z'), error: '451 refused' });
      expect(afterFailure(temporary, 9, POLICY, now, () => 0.5)).to.include({ kind: 'retry' });
      expect(afterFailure(temporary, 10, POLICY, now, () => 0.5)).to.deep.equal({ kind: 'dead', error: 'gave up after 10 tries: 451 refused' });
    });
    it('gives up, whatever its tries, once it has waited the longest an email may wait', () => {
      const policy: RetryPolicy = { ...POLICY, maxAgeMs: 72 * 3_600_000 };
      const now = new Date('2025-06-13T09:00:00Z');
      const temporary = classifyFailure(smtpError(451));
      expect(afterFailure(temporary, 2, policy, now, () => 0.5, new Date('2025-06-10T09:00:01Z'))).to.include({ kind: 'retry' });
      expect(afterFailure(temporary, 2, policy, now, () => 0.5, new Date('2025-06-10T09:00:00Z'))).to.deep.equal({ kind: 'dead', error: 'gave up after 72 hours: 451 refused' });
      expect(afterFailure(temporary, 2, POLICY, now, () => 0.5, new Date('2025-01-01T00:00:00Z')), 'no limit set').to.include({ kind: 'retry' });
    });
    it('is dead at once when the failure is permanent', () => {
      expect(afterFailure(classifyFailure(smtpError(550)), 1, POLICY, new Date(), Math.random)).to.deep.equal({ kind: 'dead', error: 'permanent failure: 550 refused' });
    });
  });
});

describe('A recipient address', () => {
  it('is accepted when it is a mailbox a server could deliver to', () => {
    for (const a of ['ada@example.com', 'ada.lovelace+shop@mail.example.co.uk', "o'brien@example.ie", '"ada lovelace"@example.com', 'ada@[192.0.2.1]', 'zoë@bücher.example', 'a@b-c.example']) {
      expect(recipientAddressProblem(a), a).to.equal(undefined);
    }
  });
  it('is refused, saying why, when no server could ever accept it', () => {
    const cases: Record<string, RegExp> = {
      'ada@example..com': /domain .* not a valid host name/,
      'ada@-example.com': /domain/,
      'ada@localhost': /domain/,
      'ada@exa_mple.com': /domain/,
      '.ada@example.com': /local part/,
      'ada..lovelace@example.com': /local part/,
      'ada,bob@example.com': /local part/,
      'ada@': /not local-part@domain/,
      [`${'a'.repeat(65)}@example.com`]: /longer than 64/,
    };
    for (const [address, why] of Object.entries(cases)) expect(recipientAddressProblem(address), address).to.match(why);
  });
});
