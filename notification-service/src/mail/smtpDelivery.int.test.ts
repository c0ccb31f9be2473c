import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { createLogger, type Db, listen, migrate, openDatabase } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { request } from 'undici';
import { createApp } from '../app.ts';
import { runCli } from '../cli.ts';
import { notificationMigrations } from '../db/migrations.ts';
import { buildNotificationService, type NotificationService } from '../notificationService.ts';
import { type ShopFeeds, startShopFeeds } from '../testing/shopFeeds.ts';
import { refuse, SmtpPeer } from '../testing/smtpPeer.ts';

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((done) => s.close(done));
  return port;
}

interface Setup {
  readonly feeds: ShopFeeds;
  readonly service: NotificationService;
  readonly peer: SmtpPeer;
  /** The environment the CLI needs to find this service's database. */
  readonly env: Record<string, string>;
  /** Moves the service's clock on. */
  tick(ms: number): void;
}

/**
 * Real shop feeds, a real SMTP peer, and the notification service sending to it with a fake clock
 * (and the jitter at its middle, so each wait is exactly the plain backoff: 30 s, 60 s, ...).
 * Everything is torn down after `run`, whatever happens.
 */
async function withSmtp(options: { env?: Record<string, string>; peerDown?: boolean }, run: (s: Setup) => Promise<void>): Promise<void> {
  const peer = new SmtpPeer();
  const port = options.peerDown ? await freePort() : await peer.start();
  const feeds = await startShopFeeds();
  const dir = tempDir();
  let db: Db | undefined;
  let service: NotificationService | undefined;
  let now = new Date('2025-06-10T09:00:00Z');
  try {
    const env = { DATA_DIR: dir.path, SMTP_URL: `smtp://127.0.0.1:${port}`, ...options.env };
    const config = feeds.config(dir.path, env);
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    service = buildNotificationService(db, config, { logger: createLogger({}, 'silent'), now: () => now, random: () => 0.5 });
    await run({ feeds, service, peer, env, tick: (ms) => { now = new Date(now.getTime() + ms); } });
  } finally {
    await service?.stop();
    db?.close();
    await feeds.close();
    dir.remove();
    await peer.stop();
  }
}

const confirmed = (id: string) => `Your Atom Shop order ${id} is confirmed`;
const onItsWay = (id: string) => `Your Atom Shop order ${id} is on its way`;
const order = (feeds: ShopFeeds, id: string, email?: string) => { feeds.place(id, ['physical'], email); feeds.pay(id); feeds.schedule(id); };

describe('Delivering the outbox over SMTP', () => {
  it('hands a real SMTP server one multipart/alternative message per email, with the envelope and Message-ID', async () => {
    const envelopes: { from: string; to: string[] }[] = [];
    await withSmtp({ env: { MAIL_FROM: 'Atom Shop <orders@atom.example>' } }, async ({ feeds, service, peer }) => {
      peer.onMail = (_mail, session) => {
        envelopes.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) });
        return undefined;
      };
      order(feeds, 'ORD-S');
      await service.cycle();
      await service.cycle();
      expect(peer.received).to.have.length(1);
      const mail = peer.received[0]!;
      expect(envelopes).to.deep.equal([{ from: 'orders@atom.example', to: [(feeds.entry('ORD-S', 'OrderPlaced').payload['customer'] as { email: string }).email] }]);
      expect(mail.messageId).to.equal('<order-ORD-S-confirmation@atom.example>');
      expect(mail.subject).to.equal(confirmed('ORD-S'));
      expect(mail.headers.get('content-type')).to.deep.include({ value: 'multipart/alternative' });
      expect(mail.html).to.include(feeds.entry('ORD-S', 'PaymentReceived').contentXhtml);
      expect(mail.text).to.include(feeds.entry('ORD-S', 'ShipmentScheduled').summary);
      expect(service.store.list()[0]).to.include({ sentVia: 'smtp' });
    });
  });

  it('tries an email refused with a 451 again after its backoff, not on every poll, and then delivers it', async () => {
    await withSmtp({}, async ({ feeds, service, peer, tick }) => {
      let refusals = 1;
      peer.onMail = () => (refusals-- > 0 ? refuse(451, 'greylisted, try again later') : undefined);
      order(feeds, 'ORD-G');
      await service.cycle();
      const [email] = service.store.list();
      expect(email).to.include({ attempts: 1, sentAt: null, deadAt: null, nextAttemptAt: '2025-06-10T09:00:30.000Z' });
      expect(email!.lastError).to.match(/451 greylisted/);
      tick(29_000);
      for (let i = 0; i < 3; i++) await service.cycle();
      expect(peer.offered, 'not due yet: not tried').to.equal(1);
      tick(1_000);
      await service.cycle();
      expect(peer.subjects()).to.deep.equal([confirmed('ORD-G')]);
      expect(peer.received[0]!.messageId).to.equal('<order-ORD-G-confirmation@shop.example>');
      expect(service.store.email(email!.id)).to.include({ attempts: 2, lastError: null, sentAt: '2025-06-10T09:00:30.000Z' });
    });
  });

  it('doubles the wait after each temporary failure and gives up after OUTBOX_MAX_TRIES', async () => {
    await withSmtp({ env: { OUTBOX_MAX_TRIES: '3' } }, async ({ feeds, service, peer, tick }) => {
      peer.onMail = () => refuse(452, 'mailbox full');
      order(feeds, 'ORD-T');
      const next: (string | null)[] = [];
      await service.cycle();
      next.push(service.store.list()[0]!.nextAttemptAt);
      tick(30_000);
      await service.cycle();
      next.push(service.store.list()[0]!.nextAttemptAt);
      tick(60_000);
      await service.cycle();
      expect(next).to.deep.equal(['2025-06-10T09:00:30.000Z', '2025-06-10T09:01:30.000Z']);
      expect(peer.offered).to.equal(3);
      const [dead] = service.store.dead();
      expect(dead).to.include({ attempts: 3, deadAt: '2025-06-10T09:01:30.000Z' });
      expect(dead!.lastError).to.match(/^gave up after 3 tries: .*452 mailbox full/);
      tick(3_600_000);
      await service.cycle();
      expect(peer.offered, 'a dead letter is not tried again by itself').to.equal(3);
    });
  });

  it('dead-letters a 550 at once, lists it on /status, and resends it with the same Message-ID by the command once the peer accepts', async () => {
    await withSmtp({}, async ({ feeds, service, peer, env }) => {
      peer.refuseRecipients.set('gone@example.com', refuse(550, 'mailbox unavailable'));
      order(feeds, 'ORD-X', 'gone@example.com');
      await service.cycle();
      const [dead] = service.store.dead();
      expect(dead).to.include({ orderId: 'ORD-X', kind: 'confirmation', attempts: 1, sentAt: null });
      expect(dead!.lastError).to.match(/^permanent failure: .*550 mailbox unavailable/);
      expect(peer.received).to.deep.equal([]);

      const http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: service.config.mailFrom }), '127.0.0.1', 0);
      try {
        const json = await (await request(`${http.url}/status`, { headers: { accept: 'application/json' } })).body.json() as { outbox: { dead: number; deadLetters: { id: number; orderId: string; to: string; lastError: string; resend: string }[] } };
        expect(json.outbox.dead).to.equal(1);
        expect(json.outbox.deadLetters).to.have.length(1);
        expect(json.outbox.deadLetters[0]).to.include({ id: dead!.id, orderId: 'ORD-X', to: 'gone@example.com', resend: `npm run cli -w notification-service -- resend ${dead!.id}` });
        const html = await (await request(`${http.url}/status`, { headers: { accept: 'text/html' } })).body.text();
        expect(html).to.include('Dead letters').and.include('ORD-X').and.include('550 mailbox unavailable').and.include(`resend ${dead!.id}`);
        const metrics = await (await request(`${http.url}/metrics`)).body.text();
        expect(metrics).to.match(/^notification_outbox_emails\{state="dead"\} 1$/m);
      } finally {
        await http.close();
      }

      const lines: string[] = [];
      expect(await runCli(['dead'], env, (l) => lines.push(l))).to.equal(0);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(new RegExp(`^${dead!.id} confirmation order ORD-X to gone@example.com \\(1 tries, dead .*\\): permanent failure: .*550`));
      peer.refuseRecipients.clear();
      await service.cycle();
      expect(peer.received, 'dead until resent').to.deep.equal([]);
      expect(await runCli(['resend', String(dead!.id)], env, (l) => lines.push(l))).to.equal(0);
      expect(lines[1]).to.match(new RegExp(`^email ${dead!.id} \\(confirmation of order ORD-X to gone@example.com\\) is queued again \\(dead since .*\\); the service sends it on its next delivery run`));
      await service.cycle();
      expect(peer.subjects()).to.deep.equal([confirmed('ORD-X')]);
      expect(peer.received[0]!.messageId).to.equal('<order-ORD-X-confirmation@shop.example>');
      expect(service.store.outboxStates()).to.include({ dead: 0, sent: 1 });
      expect(await runCli(['resend', String(dead!.id)], env, (l) => lines.push(l))).to.equal(1);
      expect(lines[2]).to.match(/^not resent: email \d+ was sent at .* \(via smtp\)$/);
      expect(await runCli(['resend', 'ORD-X'], env, (l) => lines.push(l))).to.equal(2);
      expect(lines[3]).to.match(/^name the email to resend by its id[^]*resend <email-id>/);
    });
  });

  it('dead-letters an invalid recipient address at once, without troubling the peer, and resend-dead queues it again', async () => {
    await withSmtp({}, async ({ feeds, service, peer, env }) => {
      order(feeds, 'ORD-V', 'ada@example..com');
      await service.cycle();
      const [dead] = service.store.dead();
      expect(dead).to.include({ orderId: 'ORD-V', attempts: 1 });
      expect(dead!.lastError).to.match(/^permanent failure: invalid recipient address: the domain of "ada@example\.\.com" is not a valid host name/);
      expect(peer.offered).to.equal(0);
      const lines: string[] = [];
      expect(await runCli(['resend-dead'], env, (l) => lines.push(l))).to.equal(0);
      expect(lines).to.deep.equal([`queued again: 1 dead letter (${dead!.id}); the service sends it on its next delivery run, with the same Message-ID`]);
      await service.cycle();
      expect(service.store.dead(), 'the address is still invalid').to.have.length(1);
    });
  });

  it('when the connection is refused, ends the run there, backs the whole transport off, and delivers once the server is up', async () => {
    await withSmtp({ peerDown: true }, async ({ feeds, service, peer, tick }) => {
      order(feeds, 'ORD-C1'); order(feeds, 'ORD-C2');
      await service.cycle();
      const [second, first] = service.store.list();
      expect(first, 'the server was not reached: the email is charged nothing').to.include({ attempts: 0, lastError: null, deadAt: null, nextAttemptAt: null });
      expect(second, 'the run ended at the refused connection: the next email keeps its turn').to.include({ attempts: 0, lastError: null });
      expect(service.sender.transportStatus()).to.deep.include({ name: 'smtp', failures: 1, retryAt: '2025-06-10T09:00:30.000Z' });
      expect(service.sender.transportStatus().lastError).to.match(/ECONNREFUSED/);
      const http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: service.config.mailFrom }), '127.0.0.1', 0);
      try {
        const json = await (await request(`${http.url}/status`, { headers: { accept: 'application/json' } })).body.json() as { outbox: { transport: { failures: number; retryAt: string } } };
        expect(json.outbox.transport).to.include({ failures: 1, retryAt: '2025-06-10T09:00:30.000Z' });
        const page = await (await request(`${http.url}/status`, { headers: { accept: 'text/html' } })).body.text();
        expect(page).to.include('The mail server (smtp) cannot be reached since 2025-06-10T09:00:00.000Z').and.include('paused until 2025-06-10T09:00:30.000Z');
      } finally {
        await http.close();
      }
      await peer.start(Number(new URL(service.config.smtpUrl!).port));
      await service.cycle();
      expect(peer.subjects(), 'the transport waits out its backoff').to.deep.equal([]);
      tick(30_000);
      await service.cycle();
      expect(peer.subjects()).to.deep.equal([confirmed('ORD-C1'), confirmed('ORD-C2')]);
      expect(service.store.list().map((e) => e.attempts)).to.deep.equal([1, 1]);
      expect(service.sender.transportStatus()).to.deep.include({ failures: 0, retryAt: null });
    });
  });

  it("sends another order's email while one is dead, and an order's later email goes on after its earlier one died", async () => {
    await withSmtp({}, async ({ feeds, service, peer }) => {
      peer.refuseRecipients.set('gone@example.com', refuse(550, 'no such user'));
      order(feeds, 'ORD-D', 'gone@example.com');
      order(feeds, 'ORD-OK');
      await service.cycle();
      expect(peer.subjects()).to.deep.equal([confirmed('ORD-OK')]);
      expect(service.store.dead().map((e) => e.orderId)).to.deep.equal(['ORD-D']);
      // The dead confirmation does not hold its order's dispatch notice back; the recipient is fixed meanwhile.
      peer.refuseRecipients.clear();
      feeds.dispatch('ORD-D'); feeds.dispatch('ORD-OK');
      await service.cycle();
      expect(peer.subjects()).to.deep.equal([confirmed('ORD-OK'), onItsWay('ORD-D'), onItsWay('ORD-OK')]);
    });
  });

  it("never lets an order's dispatch email overtake its confirmation while that is being retried", async () => {
    await withSmtp({}, async ({ feeds, service, peer, tick }) => {
      let refusals = 2;
      peer.onMail = (mail) => (mail.subject === confirmed('ORD-F') && refusals-- > 0 ? refuse(451, 'try again later') : undefined);
      order(feeds, 'ORD-F'); feeds.dispatch('ORD-F');
      await service.cycle();
      order(feeds, 'ORD-N');
      feeds.dispatch('ORD-N');
      for (let i = 0; i < 3; i++) await service.cycle();
      expect(peer.subjects(), 'the other order is not held').to.deep.equal([confirmed('ORD-N'), onItsWay('ORD-N')]);
      tick(30_000);
      await service.cycle(); // the second refusal: the dispatch still waits
      expect(peer.subjects()).to.have.length(2);
      expect(service.store.list().find((e) => e.kind === 'dispatched' && e.orderId === 'ORD-F')).to.include({ attempts: 0, sentAt: null });
      tick(60_000);
      await service.cycle();
      expect(peer.subjects().slice(2)).to.deep.equal([confirmed('ORD-F'), onItsWay('ORD-F')]);
    });
  });
});
