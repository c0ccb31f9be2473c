import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Db, listen, migrate, openDatabase, type RunningServer } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { expect } from 'chai';
import { request } from 'undici';
import { createApp } from './app.ts';
import type { NotificationConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { buildNotificationService, type NotificationService } from './notificationService.ts';
import { type ShopFeeds, startShopFeeds } from './testing/shopFeeds.ts';

const TEMPLATES = fileURLToPath(new URL('../templates', import.meta.url));
const LIMIT_MS = 1000;
const SECRET = 'a-secret-of-the-service-environment';

async function until(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Email templates are code, run apart from the service', () => {
  let feeds: ShopFeeds;
  let dir: ReturnType<typeof tempDir>;
  let templatesDir: string;
  let config: NotificationConfig;
  let db: Db;
  let service: NotificationService;
  let http: RunningServer;

  beforeEach(async () => {
    process.env['NOTIFICATION_TEST_SECRET'] = SECRET;
    feeds = await startShopFeeds();
    dir = tempDir();
    templatesDir = join(dir.path, 'templates');
    cpSync(TEMPLATES, templatesDir, { recursive: true });
    config = feeds.config(dir.path, { TEMPLATES_DIR: templatesDir, PUBLIC_URL: 'https://mail.shop.example/n', VIEW_LINK_SECRET: 'a-view-link-secret-of-ours' });
    db = openDatabase(config.dbFile);
    migrate(db, notificationMigrations);
    service = buildNotificationService(db, config, { logger: createLogger({}, 'silent'), templateDebounceMs: 30, templateTimeLimitMs: LIMIT_MS });
    service.templates.watch();
    http = await listen(createApp({ service, logger: createLogger({}, 'silent'), mailFrom: config.mailFrom }), '127.0.0.1', 0);
  });
  afterEach(async () => {
    delete process.env['NOTIFICATION_TEST_SECRET'];
    await http.close();
    await service.stop();
    db.close();
    await feeds.close();
    dir.remove();
  });

  const edit = (file: string, change: (s: string) => string) => writeFileSync(join(templatesDir, file), change(readFileSync(join(templatesDir, file), 'utf8')));
  const inUse = (name: string) => service.templates.status().find((t) => t.name === name)!;
  const order = (id: string) => { feeds.place(id); feeds.pay(id); feeds.schedule(id); };
  const emailOf = (id: string) => service.store.list().find((e) => e.orderId === id && e.kind === 'confirmation')!;
  const json = async (path: string) => JSON.parse(await (await request(`${http.url}${path}`, { headers: { accept: 'application/json' } })).body.text()) as Record<string, unknown>;

  it('gives a template that reads process.env nothing of the service\'s environment, in emails and previews', async () => {
    edit('confirmation.txt', (s) => `ENV<%= JSON.stringify(process.env) %>ENV\n${s}`);
    service.templates.refresh();
    expect(inUse('confirmation').onDisk.error).to.equal(null);
    order('ORD-E');
    await service.cycle();
    expect(emailOf('ORD-E').text).to.include('ENV{}ENV').and.not.include(SECRET);
    const preview = await (await request(`${http.url}/templates/confirmation/0/text`)).body.text();
    expect(preview).to.include('ENV{}ENV').and.not.include(SECRET).and.not.include('a-view-link-secret-of-ours');
  });

  it('rejects a template that never finishes within the time limit, as a broken one, and emails keep going with the last good version', async () => {
    const good = inUse('confirmation').inUse!.version;
    const saved = Date.now();
    edit('confirmation.html', (s) => s.replace('<%= it.orderId %>', '<% while (it.orderId) { } %><%= it.orderId %>'));
    await until('the looping file is rejected', () => inUse('confirmation').onDisk.error !== null);
    expect(Date.now() - saved, 'rejected within the limit (and the watcher\'s pause)').to.be.below(LIMIT_MS + 1500);
    expect(inUse('confirmation').onDisk.error).to.deep.include({ file: 'confirmation.html' });
    expect(inUse('confirmation').onDisk.error!.message).to.match(/^confirmation\.html \(or a file it uses\) did not finish within 1 s and was stopped/);
    expect(inUse('confirmation').inUse!.version).to.equal(good);
    const status = await json('/status') as { templates: { ok: boolean; sets: { name: string; onDisk: { error: { message: string } | null } }[] } };
    expect(status.templates.ok).to.equal(false);
    expect(status.templates.sets.find((t) => t.name === 'confirmation')!.onDisk.error!.message).to.include('did not finish within 1 s');

    for (const id of ['ORD-L1', 'ORD-L2']) order(id);
    await service.cycle();
    for (const id of ['ORD-L1', 'ORD-L2']) expect(emailOf(id), id).to.include({ templateVersion: good }).and.have.property('sentAt').that.is.a('string');
  });

  it('sends an email in the plain built-in form when the version in use never finishes for one real order, and the next with the templates', async () => {
    // Passes its check (no sample order is called that), then loops for one real order.
    edit('confirmation.txt', (s) => `<% if (it.orderId === 'ORD-LOOP') { while (true) { } } %>${s}`);
    service.templates.refresh();
    const version = inUse('confirmation').inUse!.version;
    expect(inUse('confirmation').onDisk.error).to.equal(null);
    order('ORD-LOOP');
    order('ORD-NEXT');
    const started = Date.now();
    await service.cycle();
    expect(Date.now() - started).to.be.below(LIMIT_MS + 3000);
    expect(emailOf('ORD-LOOP')).to.include({ templateVersion: 'built-in' });
    expect(emailOf('ORD-LOOP').text).to.include('ORD-LOOP');
    expect(emailOf('ORD-NEXT')).to.include({ templateVersion: version });
    const failures = service.templates.renderFailures();
    expect(failures).to.have.length(1);
    expect(failures[0]).to.deep.include({ name: 'confirmation', version, orderId: 'ORD-LOOP' });
    expect(failures[0]!.message).to.match(/^confirmation\.txt \(or a file it uses\) did not finish within 1 s/);
  });
});
