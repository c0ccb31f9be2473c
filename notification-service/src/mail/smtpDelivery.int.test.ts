import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLogger, type Db, migrate, openDatabase } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { notificationMigrations } from '../db/migrations.ts';
import { buildNotificationService, type NotificationService } from '../notificationService.ts';
import { type ShopFeeds, startShopFeeds } from '../testing/shopFeeds.ts';

/** What the SMTP peer does with each message: accept it, or refuse it with an error. */
type OnMail = (mail: ParsedMail, session: SMTPServerSession) => Error | undefined;

/**
 * A real SMTP server on a loopback port, real shop feeds, and the notification service sending
 * to that server; everything is torn down after `run`, whatever happens.
 */
async function withSmtp(onMail: OnMail, extraEnv: Record<string, string>, run: (feeds: ShopFeeds, service: NotificationService) => Promise<void>): Promise<void> {
  const smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, done) {
      simpleParser(stream).then((mail) => done(onMail(mail, session) ?? null), done);
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  const feeds = await startShopFeeds();
  const dir = tempDir();
  let db: Db | undefined;
  try {
    const config = feeds.config(dir.path, { SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, ...extraEnv });
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    await run(feeds, buildNotificationService(db, config, { logger: createLogger({}, 'silent') }));
  } finally {
    db?.close();
    await feeds.close();
    dir.remove();
    await new Promise<void>((done) => smtp.close(() => done()));
  }
}

describe('Delivering the outbox over SMTP', () => {
  it('hands a real SMTP server one multipart/alternative message per email, with the envelope and Message-ID', async () => {
    const received: { from: string; to: string[]; mail: ParsedMail }[] = [];
    const accept: OnMail = (mail, session) => {
      received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), mail });
      return undefined;
    };
    await withSmtp(accept, { MAIL_FROM: 'Atom Shop <orders@atom.example>' }, async (feeds, service) => {
      feeds.place('ORD-S'); feeds.pay('ORD-S'); feeds.schedule('ORD-S');
      await service.cycle();
      await service.cycle();
      await service.stop();
      expect(received).to.have.length(1);
      const { from, to, mail } = received[0]!;
      expect(from).to.equal('orders@atom.example');
      expect(to).to.deep.equal([(feeds.entry('ORD-S', 'OrderPlaced').payload['customer'] as { email: string }).email]);
      expect(mail.messageId).to.equal('<order-ORD-S-confirmation@atom.example>');
      expect(mail.subject).to.equal('Your Atom Shop order ORD-S is confirmed');
      expect(mail.headers.get('content-type')).to.deep.include({ value: 'multipart/alternative' });
      expect(mail.html).to.include(feeds.entry('ORD-S', 'PaymentReceived').contentXhtml);
      expect(mail.text).to.include(feeds.entry('ORD-S', 'ShipmentScheduled').summary);
      expect(service.store.list()[0]).to.include({ sentVia: 'smtp' });
    });
  });

  it('never lets the dispatch email overtake a confirmation that failed to send', async () => {
    const subjects: string[] = [];
    let refuseNext = true;
    const refuseFirst: OnMail = (mail) => {
      if (refuseNext) {
        refuseNext = false;
        return Object.assign(new Error('try again later'), { responseCode: 451 });
      }
      subjects.push(mail.subject ?? '');
      return undefined;
    };
    await withSmtp(refuseFirst, {}, async (feeds, service) => {
      feeds.place('ORD-F'); feeds.pay('ORD-F'); feeds.schedule('ORD-F'); feeds.dispatch('ORD-F');
      for (let i = 0; i < 3; i++) await service.cycle();
      await service.stop();
      expect(subjects.map((x) => (/confirmed/.test(x) ? 'confirmation' : 'dispatched'))).to.deep.equal(['confirmation', 'dispatched']);
    });
  });
});
