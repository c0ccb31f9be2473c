import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Db, listen, migrate, openDatabase, type RunningServer } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { simpleParser } from 'mailparser';
import { request } from 'undici';
import { createApp } from './app.ts';
import type { NotificationConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { NoUsableTemplates } from './mail/templateLibrary.ts';
import { buildNotificationService, type NotificationService } from './notificationService.ts';
import { type ShopFeeds, startShopFeeds } from './testing/shopFeeds.ts';

const TEMPLATES = fileURLToPath(new URL('../templates', import.meta.url));

async function until(what: string, done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Email templates that marketing edits while orders flow', () => {
  let feeds: ShopFeeds;
  let dir: ReturnType<typeof tempDir>;
  let templatesDir: string;
  let config: NotificationConfig;
  let db: Db;
  let service: NotificationService;
  let http: RunningServer;
  let logLines: string[];

  const start = async () => {
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    logLines = [];
    service = buildNotificationService(db, config, { logger: createLogger({ service: 'notification-service' }, 'info', (l) => logLines.push(l)), templateDebounceMs: 30 });
    service.templates.watch();
    http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: config.mailFrom }), '127.0.0.1', 0);
  };
  const stop = async () => { await http.close(); await service.stop(); db.close(); };

  beforeEach(async () => {
    feeds = await startShopFeeds();
    dir = tempDir();
    templatesDir = join(dir.path, 'templates');
    cpSync(TEMPLATES, templatesDir, { recursive: true });
    config = feeds.config(dir.path, { TEMPLATES_DIR: templatesDir, PUBLIC_URL: 'https://mail.shop.example/n' });
    await start();
  });
  afterEach(async () => { await stop(); await feeds.close(); dir.remove(); });

  const edit = (file: string, change: (s: string) => string) => writeFileSync(join(templatesDir, file), change(readFileSync(join(templatesDir, file), 'utf8')));
  const inUse = (name: string) => service.templates.status().find((t) => t.name === name)!;
  const order = (id: string) => { feeds.place(id); feeds.pay(id); feeds.schedule(id); };
  const emailOf = (id: string) => service.store.list().find((e) => e.orderId === id && e.kind === 'confirmation')!;
  const eml = async (id: string) => {
    const file = readdirSync(config.outboxDir).find((f) => f.includes(`-confirmation-${id}`))!;
    return simpleParser(readFileSync(join(config.outboxDir, file)));
  };
  const get = async (path: string, accept = 'application/json') => {
    const res = await request(`${http.url}${path}`, { headers: { accept } });
    return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
  };
  const parked = () => service.consumers.flatMap((c) => c.status().parked);

  it('keeps sending with the last good version while a file on disk is broken, shows why on /status, parks nothing, and uses the file once fixed', async () => {
    const good = inUse('confirmation').inUse!.version;
    expect(good).to.match(/^[0-9a-f]{12}$/);
    order('ORD-A');
    await service.cycle();
    expect(emailOf('ORD-A').templateVersion).to.equal(good);
    expect((await eml('ORD-A')).headers.get('x-template-version')).to.equal(good);

    // A typo: an unclosed tag. The watcher sees it on its own.
    edit('confirmation.html', (s) => s.replace('<%= it.orderId %>', '<%= it.orderId %'));
    await until('the broken file is seen', () => inUse('confirmation').onDisk.error !== null);
    for (const id of ['ORD-B', 'ORD-C']) order(id);
    await service.cycle();
    await service.cycle();
    for (const id of ['ORD-B', 'ORD-C']) {
      expect(emailOf(id).templateVersion, id).to.equal(good);
      expect(emailOf(id).sentAt, id).to.be.a('string');
      expect((await eml(id)).html, id).to.include(`<strong>${id}</strong>`);
    }
    expect(parked()).to.deep.equal([]);

    const status = JSON.parse((await get('/status')).text) as { templates: { ok: boolean; sets: { name: string; inUse: { version: string }; onDisk: { version: string; error: { file: string; message: string } | null } }[] } };
    const confirmation = status.templates.sets.find((t) => t.name === 'confirmation')!;
    expect(status.templates.ok).to.equal(false);
    expect(confirmation.inUse.version).to.equal(good);
    expect(confirmation.onDisk.version).to.not.equal(good);
    expect(confirmation.onDisk.error).to.deep.include({ file: 'confirmation.html' });
    expect(confirmation.onDisk.error!.message).to.match(/^confirmation\.html: Bad template syntax: Unexpected token/).and.not.include('__eta');
    const page = await get('/status', 'text/html');
    expect(page.text).to.include('Email templates').and.include('confirmation.html: Bad template syntax');
    const rejected = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'template rejected');
    expect(rejected).to.deep.include({ level: 'error', template: 'confirmation', file: 'confirmation.html', inUse: good });

    edit('confirmation.html', (s) => s.replace('<%= it.orderId %', '<%= it.orderId %>').replace('Thank you for your order', 'Thank you so much for your order'));
    await until('the fixed file is in use', () => inUse('confirmation').inUse!.version !== good && inUse('confirmation').onDisk.error === null);
    const fixed = inUse('confirmation').inUse!.version;
    order('ORD-D');
    await service.cycle();
    expect(emailOf('ORD-D').templateVersion).to.equal(fixed);
    expect((await eml('ORD-D')).headers.get('x-template-version')).to.equal(fixed);
    expect(emailOf('ORD-D').html).to.include('Thank you so much for your order');
    expect(JSON.parse((await get('/status')).text).templates.ok).to.equal(true);
    expect((await get('/emails', 'text/html')).text).to.include(`<code>${fixed}</code>`).and.include(`<code>${good}</code>`);
  });

  it('refuses a misspelt value, an empty subject and a subject without the order id, keeping the version in use', async () => {
    const good = inUse('dispatched').inUse!.version;
    const cases: [string, (s: string) => string, RegExp][] = [
      ['dispatched.txt', (s) => s.replace('<%= it.customerName %>', '<%= it.custmerName %>'), /dispatched\.txt prints "undefined"/],
      ['dispatched.subject.txt', () => '<% if (false) { %>x<% } %>\n', /dispatched\.subject\.txt renders an empty subject line/],
      ['dispatched.subject.txt', () => 'Your order is on its way\n', /dispatched\.subject\.txt does not show the order id/],
      ['dispatched.html', (s) => s.replace('it.sections.dispatch.html', 'it.sections.dispach.html'), /dispatched\.html: [\s\S]*Cannot read properties of undefined/],
    ];
    const original = Object.fromEntries(readdirSync(templatesDir).map((f) => [f, readFileSync(join(templatesDir, f), 'utf8')]));
    for (const [file, change, error] of cases) {
      edit(file, change);
      service.templates.refresh();
      expect(inUse('dispatched').onDisk.error?.message, file).to.match(error);
      expect(inUse('dispatched').inUse!.version).to.equal(good);
      writeFileSync(join(templatesDir, file), original[file]!);
      service.templates.refresh();
      expect(inUse('dispatched').onDisk.error, `${file} restored`).to.equal(null);
    }
    expect(inUse('dispatched').inUse!.version).to.equal(good);
  });

  it('sends an email in the plain built-in form, and parks nothing, when the version in use still fails for one order', async () => {
    // Passes its check (no sample order is called that), then fails for one real order.
    edit('confirmation.txt', (s) => `<% if (it.orderId === 'ORD-BOOM') { it.sections.nothing.text } %>${s}`);
    service.templates.refresh();
    const version = inUse('confirmation').inUse!.version;
    expect(inUse('confirmation').onDisk.error).to.equal(null);
    order('ORD-BOOM');
    order('ORD-FINE');
    await service.cycle();
    expect(parked()).to.deep.equal([]);
    expect(emailOf('ORD-FINE').templateVersion).to.equal(version);
    const boom = emailOf('ORD-BOOM');
    expect(boom.templateVersion).to.equal('built-in');
    expect(boom.sentAt).to.be.a('string');
    expect(boom.subject).to.include('ORD-BOOM');
    expect(boom.html).to.include(feeds.entry('ORD-BOOM', 'PaymentReceived').contentXhtml);
    expect(boom.text).to.include(feeds.entry('ORD-BOOM', 'ShipmentScheduled').summary);
    const status = JSON.parse((await get('/status')).text) as { templates: { renderFailures: { name: string; version: string; orderId: string; message: string }[] } };
    expect(status.templates.renderFailures).to.have.length(1);
    expect(status.templates.renderFailures[0]).to.deep.include({ name: 'confirmation', version, orderId: 'ORD-BOOM' });
    expect(status.templates.renderFailures[0]!.message).to.match(/confirmation\.txt/);
  });

  it('GET /templates shows every kind rendered with the sample orders, HTML and text, and follows the files', async () => {
    const body = () => get('/templates').then((r) => JSON.parse(r.text) as { templates: { name: string; inUse: { version: string } | null; onDisk: { error: { message: string } | null }; samples: { orderId: string; label: string; subject: string; html: string; text: string; href: string; error: string | null }[] }[] });
    const first = await body();
    const names = first.templates.map((t) => t.name);
    expect(names).to.include.members(['confirmation', 'dispatched']);
    // Every kind on disk is shown, whatever the developers add.
    const onDisk = readdirSync(templatesDir).filter((f) => f.endsWith('.subject.txt')).map((f) => f.replace('.subject.txt', ''));
    expect(names).to.include.members(onDisk);
    for (const name of ['confirmation', 'dispatched']) {
      const t = first.templates.find((x) => x.name === name)!;
      expect(t.samples.length, name).to.be.greaterThan(0);
      for (const s of t.samples) {
        expect(s.error, `${name} ${s.label}`).to.equal(null);
        expect(s.subject).to.include(s.orderId);
        expect(s.html).to.include('<!DOCTYPE html>').and.include(s.orderId);
        expect(s.text).to.include(s.orderId).and.include('View this email in your browser: https://mail.shop.example/n/view/');
      }
    }
    // The three example orders (digital, physical, both) all get a confirmation, also one sent without its delivery section.
    const confirmations = first.templates.find((x) => x.name === 'confirmation')!.samples;
    expect(new Set(confirmations.map((s) => s.orderId)).size).to.equal(3);
    expect(confirmations.some((s) => s.text.includes('Your delivery details are not ready yet'))).to.equal(true);

    const page = await get('/templates', 'text/html');
    expect(page.type).to.match(/^text\/html/);
    expect(page.text).to.include('<iframe sandbox src="/templates/confirmation/0"');
    const one = await get('/templates/confirmation/0', 'text/html');
    expect(one.status).to.equal(200);
    expect(one.text).to.equal(confirmations[0]!.html);
    expect((await get('/templates/confirmation/0/text', '*/*')).text).to.include(confirmations[0]!.text);
    expect((await get('/templates/confirmation/99')).status).to.equal(404);

    // An edit shows at once: the page looks at the files when asked.
    edit('dispatched.subject.txt', () => 'Order <%= it.orderId %> has left the warehouse\n');
    const edited = (await body()).templates.find((t) => t.name === 'dispatched')!;
    expect(edited.samples[0]!.subject).to.equal(`Order ${edited.samples[0]!.orderId} has left the warehouse`);
    // A broken file: the error, and the samples as they would be sent (with the version in use).
    edit('dispatched.txt', (s) => `<% if (it.orderId { %>${s}`);
    const broken = (await body()).templates.find((t) => t.name === 'dispatched')!;
    expect(broken.onDisk.error!.message).to.match(/^dispatched\.txt: /);
    expect(broken.samples[0]!.subject).to.equal(`Order ${broken.samples[0]!.orderId} has left the warehouse`);
    expect((await get('/templates', 'text/html')).text).to.include('The files on disk are not used').and.include('dispatched.txt');
  });

  it('links each email to a page that shows it again, only with the link\'s token', async () => {
    order('ORD-V');
    await service.cycle();
    const mail = await eml('ORD-V');
    const link = /<a href="([^"]+)"[^>]*>View this email in your browser<\/a>/.exec(String(mail.html))?.[1]?.replaceAll('&amp;', '&');
    expect(link).to.match(/^https:\/\/mail\.shop\.example\/n\/view\/order-ORD-V-confirmation\?t=[A-Za-z0-9_-]{43}$/);
    expect(mail.text).to.include(`View this email in your browser: ${link}`);
    const path = link!.slice('https://mail.shop.example/n'.length);

    const page = await request(`${http.url}${path}`, { headers: { accept: 'text/html' } });
    const html = await page.body.text();
    expect(page.statusCode).to.equal(200);
    expect(page.headers['referrer-policy']).to.equal('no-referrer');
    expect(page.headers['cache-control']).to.equal('private, no-store');
    for (const type of ['OrderPlaced', 'PaymentReceived', 'ShipmentScheduled']) expect(html, type).to.include(feeds.entry('ORD-V', type).contentXhtml);
    expect(html).to.include('<strong>ORD-V</strong>').and.not.include('View this email in your browser');

    const token = new URL(link!).searchParams.get('t')!;
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of ['/view/order-ORD-V-confirmation', `/view/order-ORD-V-confirmation?t=${wrong}`, `/view/order-ORD-V-confirmation?t=${token.slice(1)}`, `/view/order-ORD-W-confirmation?t=${token}`, `/view/order-ORD-V-dispatched?t=${token}`]) {
      const res = await get(bad, 'text/html');
      expect(res.status, bad).to.equal(404);
      expect(res.text, bad).to.include('This link is not valid').and.not.include('ORD-V');
    }
    const problem = await get('/view/order-ORD-V-confirmation?t=nope', 'application/json');
    expect(problem.status).to.equal(404);
    expect(problem.type).to.match(/^application\/problem\+json/);
  });

  it('sends with the last good version after a restart with a broken file on disk', async () => {
    const good = inUse('confirmation').inUse!.version;
    await stop();
    edit('layout.html', (s) => s.replace('<%~ it.body %>', '<%~ it.body %'));
    await start();
    expect(inUse('confirmation').inUse!.version).to.equal(good);
    expect(inUse('confirmation').onDisk.error).to.deep.include({ file: 'layout.html' });
    expect(inUse('dispatched').onDisk.error).to.deep.include({ file: 'layout.html' });
    order('ORD-R');
    await service.cycle();
    expect(emailOf('ORD-R').templateVersion).to.equal(good);
    expect(emailOf('ORD-R').html).to.include('<strong>ORD-R</strong>');
    expect(parked()).to.deep.equal([]);
  });

  it('refuses to start when a kind of email has broken files and no earlier version passed, naming the file', () => {
    edit('confirmation.txt', (s) => s.replace('<%= it.orderId %>', '<%= it.orderId'));
    const fresh = tempDir();
    try {
      const other = openDatabase(join(fresh.path, 'n.db'));
      migrate(other, notificationMigrations);
      expect(() => buildNotificationService(other, config, { logger: createLogger({}, 'silent') }))
        .to.throw(NoUsableTemplates, /confirmation: confirmation\.txt: Bad template syntax[\s\S]*no earlier version/);
      other.close();
      const main = fileURLToPath(new URL('./main.ts', import.meta.url));
      const run = spawnSync(process.execPath, ['--import', 'tsx', main], {
        env: { ...process.env, DATA_DIR: fresh.path, TEMPLATES_DIR: templatesDir, PORT: '0' }, encoding: 'utf8', timeout: 12_000,
      });
      expect(run.status).to.equal(2);
      expect(run.stderr).to.include('notification-service: no usable email templates').and.include('confirmation.txt: Bad template syntax');
    } finally {
      fresh.remove();
    }
  });
});
