import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLogger, type Db, migrate, openDatabase } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { notificationMigrations } from '../db/migrations.ts';
import { buildNotificationService } from '../notificationService.ts';
import { startShopFeeds } from '../testing/shopFeeds.ts';

describe('Delivering the outbox over SMTP', () => {
  it('hands a real SMTP server one multipart/alternative message per email, with the envelope and Message-ID', async () => {
    const received: { from: string; to: string[]; mail: ParsedMail }[] = [];
    const smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, session, done) {
        simpleParser(stream).then((mail) => {
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), mail });
          done();
        }, done);
      },
    });
    smtp.listen(0, '127.0.0.1');
    await once(smtp.server, 'listening');
    const feeds = await startShopFeeds();
    const dir = tempDir();
    let db: Db | undefined;
    try {
      const config = feeds.config(dir.path, { SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, MAIL_FROM: 'Atom Shop <orders@atom.example>' });
      db = openDatabase(config.dbFile);
      migrate(db, notificationMigrations);
      const service = buildNotificationService(db, config, { logger: createLogger({}, 'silent') });
      feeds.place('ORD-S'); feeds.pay('ORD-S'); feeds.schedule('ORD-S');
      await service.cycle();
      await service.cycle();
      await service.stop();
      expect(received).to.have.length(1);
      const { from, to, mail } = received[0]!;
      expect(from).to.equal('orders@atom.example');
      expect(to).to.deep.equal(['ada@example.com']);
      expect(mail.messageId).to.equal('<order-ORD-S-confirmation@atom.example>');
      expect(mail.subject).to.equal('Your Atom Shop order ORD-S is confirmed');
      expect(mail.headers.get('content-type')).to.deep.include({ value: 'multipart/alternative' });
      expect(mail.html).to.include('Paid <strong>€12.50</strong>');
      expect(mail.text).to.include('Ships within 2 working days.');
      expect(service.store.list()[0]).to.include({ sentVia: 'smtp' });
    } finally {
      db?.close();
      await feeds.close();
      dir.remove();
      await new Promise<void>((done) => smtp.close(() => done()));
    }
  });

  it('never lets the dispatch email overtake a confirmation that failed to send', async () => {
    const subjects: string[] = [];
    let refuseNext = true;
    const smtp = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, _session, done) {
        simpleParser(stream).then((mail) => {
          if (refuseNext) {
            refuseNext = false;
            done(Object.assign(new Error('try again later'), { responseCode: 451 }));
            return;
          }
          subjects.push(mail.subject ?? '');
          done();
        }, done);
      },
    });
    smtp.listen(0, '127.0.0.1');
    await once(smtp.server, 'listening');
    const feeds = await startShopFeeds();
    const dir = tempDir();
    let db: Db | undefined;
    try {
      const config = feeds.config(dir.path, { SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}` });
      db = openDatabase(config.dbFile);
      migrate(db, notificationMigrations);
      const service = buildNotificationService(db, config, { logger: createLogger({}, 'silent') });
      feeds.place('ORD-F'); feeds.pay('ORD-F'); feeds.schedule('ORD-F'); feeds.dispatch('ORD-F');
      for (let i = 0; i < 3; i++) await service.cycle();
      await service.stop();
      expect(subjects.map((x) => (/confirmed/.test(x) ? 'confirmation' : 'dispatched'))).to.deep.equal(['confirmation', 'dispatched']);
    } finally {
      db?.close();
      await feeds.close();
      dir.remove();
      await new Promise<void>((done) => smtp.close(() => done()));
    }
  });
});
