import { expect } from 'chai';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Router from '@koa/router';
import { request } from 'undici';
import { isOpen, readAccessConfig } from '../config/accessConfig.ts';
import { EnvReader } from '../config/env.ts';
import { createLogger } from '../log/logger.ts';
import { type RunningServer, listen } from '../service/runServer.ts';
import { tempDir } from '../testing/tempDir.ts';
import { createServiceAccess, requireCredential } from './accessControl.ts';
import { createBaseApp } from './baseApp.ts';
import { Credentials } from './credentials.ts';

const ALICE = 'alice-secret-0123456789';
const BOB = 'bob-secret-0123456789ab';
const CAROL = 'carol-secret-0123456789';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Polls until `probe` is true; fails after a deadline far beyond any normal run (nothing here is timed). */
async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Access control', () => {
  const dir = tempDir();
  const file = join(dir.path, 'readers');
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: 'test' }, 'debug', (l) => { lines.push(JSON.parse(l) as Record<string, unknown>); });
  let readers: Credentials;
  let server: RunningServer;

  /** Writes the file as an operator should: a new file renamed over the old one. */
  const replaceFile = (text: string): void => {
    writeFileSync(`${file}.new`, text);
    renameSync(`${file}.new`, file);
  };
  const status = async (authorization?: string): Promise<number> => {
    const r = await request(`${server.url}/feed`, { headers: authorization ? { authorization } : {} });
    await r.body.dump();
    return r.statusCode;
  };

  before(async () => {
    writeFileSync(file, `# who may read\nalice:${ALICE}\nbob:${BOB}\n`);
    readers = new Credentials('reader', { fixed: [{ name: 'billing', secret: CAROL }], file, logger, pollMs: 100 });
    const app = createBaseApp(logger);
    app.use(new Router().get('/feed', requireCredential(readers, 'test feeds'), (ctx) => { ctx.body = 'ok'; }).routes());
    server = await listen(app, '127.0.0.1', 0);
  });
  after(async () => {
    await server.close();
    readers.close();
    dir.remove();
  });

  it('answers 401 problem+json with a Basic challenge (for browsers and feed readers) and a Bearer one', async () => {
    const r = await request(`${server.url}/feed`);
    expect(r.statusCode).to.equal(401);
    expect(r.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(r.headers['www-authenticate']).to.deep.equal(['Basic realm="test feeds", charset="UTF-8"', 'Bearer realm="test feeds"']);
    expect(((await r.body.json()) as { detail: string }).detail).to.match(/reader's credential/);
    expect(await status(`Bearer ${ALICE}-wrong`)).to.equal(401);
  });

  it('accepts each reader by Bearer and by Basic, and names the reader in the access log', async () => {
    lines.length = 0;
    expect(await status(`Bearer ${ALICE}`)).to.equal(200);
    expect(await status(basic('bob', BOB))).to.equal(200);
    expect(await status(basic('', CAROL))).to.equal(200);
    const access = lines.filter((l) => l['msg'] === 'request').map((l) => l['reader']);
    expect(access).to.deep.equal(['alice', 'bob', 'billing']);
  });

  it('re-reads the file when it changes: a revoked reader is refused, the others keep reading', async () => {
    replaceFile(`alice:${ALICE}\n`);
    await eventually('bob refused', async () => (await status(`Bearer ${BOB}`)) === 401);
    expect(await status(`Bearer ${ALICE}`)).to.equal(200);
    expect(await status(`Bearer ${CAROL}`)).to.equal(200);
    // Written in place (not renamed) is seen too.
    writeFileSync(file, `alice:${ALICE}\nbob:${BOB}\n`);
    await eventually('bob back', async () => (await status(`Bearer ${BOB}`)) === 200);
  });

  it('keeps the previous list, and logs an error, when the file is broken or missing', async () => {
    lines.length = 0;
    replaceFile('alice without a secret\n');
    await eventually('the broken file reported', async () => lines.some((l) => l['level'] === 'error' && l['msg'] === 'credentials file not applied: the previous list stays in force'));
    expect(JSON.stringify(lines)).not.to.include(ALICE);
    expect(await status(`Bearer ${ALICE}`)).to.equal(200);
    expect(await status(`Bearer ${BOB}`)).to.equal(200);
    replaceFile(`bob:${BOB}\n`);
    await eventually('alice refused', async () => (await status(`Bearer ${ALICE}`)) === 401);    lines.length = 0;
    rmSync(file);
    await eventually('the missing file reported', async () => lines.some((l) => l['level'] === 'error' && JSON.stringify(l['problems']).includes('ENOENT')));
    expect(await status(`Bearer ${BOB}`)).to.equal(200);
  });

  it('says at every start, as a warning, what ALLOW_OPEN=1 leaves open on a network address', () => {
    const warnings: string[] = [];
    const warnLogger = createLogger({}, 'warn', (l) => { warnings.push(l); });
    const r = new EnvReader({ ALLOW_OPEN: '1', OPERATORS: `ops:${ALICE}` });
    const config = readAccessConfig(r, { host: '0.0.0.0', writes: { apiToken: undefined }, feeds: { feedToken: undefined } });
    r.done();
    expect(isOpen(config.operators)).to.equal(false);
    createServiceAccess(config, { service: 'test-service', logger: warnLogger }).close();
    expect(warnings).to.have.length(1);
    const line = JSON.parse(warnings[0]!) as { level: string; msg: string; open: string[] };
    expect(line.level).to.equal('warn');
    expect(line.msg).to.match(/^ALLOW_OPEN=1: test-service listens on 0\.0\.0\.0, a network address, with these open to anyone/);
    expect(line.open).to.deep.equal(['writes (API_TOKEN / API_CLIENTS)', 'feeds (FEED_READERS)']);
    // On loopback nothing is said.
    const quiet = new EnvReader({});
    createServiceAccess(readAccessConfig(quiet, { host: '127.0.0.1' }), { service: 'test-service', logger: warnLogger }).close();
    expect(warnings).to.have.length(1);
  });
});
