import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { request } from 'undici';
import { scrapeMetrics } from './prometheusText.ts';
import { tempDir } from './tempDir.ts';

/** One request the scenario makes: a path (GET) or a method, path and body. */
export interface Probe {
  readonly method?: string;
  readonly path: string;
  readonly body?: unknown;
}

export interface AccessScenario {
  /** The service's name, as its 401 realms say it (`order-service` -> `order-service feeds`). */
  readonly service: string;
  /** Starts the service with these variables added to its environment. */
  readonly start: (env: Record<string, string>) => Promise<{ readonly url: string; close(): Promise<void> }>;
  /** Feed resources (FEED_READERS), and the feed's name in /metrics; none for a service without a feed. */
  readonly feeds?: { readonly name: string; readonly paths: readonly string[] };
  /** Pages for people and /metrics (OPERATORS). */
  readonly pages: readonly string[];
  /** Writes and API reads (API_TOKEN, API_CLIENTS): with a client's credential they get past the guard (any status but 401). */
  readonly writes?: readonly Probe[];
  /** Paths that need no credential of any kind. */
  readonly open: readonly string[];
  /** Paths with their own protection, never an operator login (any status but 401 without a credential). */
  readonly ownProtection?: readonly string[];
}

const S = {
  apiToken: 'api-token-0123456789abc', client: 'shop-front-0123456789ab',
  billing: 'billing-reads-0123456789', bob: 'bob-reads-0123456789abcd', carol: 'carol-reads-0123456789ab',
  ops: 'ops-login-0123456789abcd', dana: 'dana-login-0123456789abc',
};
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const bearer = (secret: string): string => `Bearer ${secret}`;

interface Answer { readonly status: number; readonly headers: Record<string, string | string[] | undefined> }

/** Polls until `probe` is true; fails only after a deadline far beyond any normal run. */
async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The access rules every service keeps, run against the real service on a real port: feeds
 * need a reader (FEED_READERS, FEED_READERS_FILE, FEED_TOKEN), pages and /metrics an operator
 * (OPERATORS, OPERATORS_FILE), writes an API client (API_TOKEN, API_CLIENTS); Bearer and Basic
 * both work, each kind only where it belongs; the health checks stay open; revoking one name in
 * a file leaves the others working; the feed's 304 fast path checks like Koa does.
 */
export function describeAccessControl(s: AccessScenario): void {
  describe(`${s.service} with credentials configured`, function () {
    this.timeout(30_000);
    const dir = tempDir('access-');
    const readersFile = join(dir.path, 'feed-readers');
    const operatorsFile = join(dir.path, 'operators');
    let svc: { url: string; close(): Promise<void> };
    const replace = (file: string, text: string): void => { writeFileSync(`${file}.new`, text); renameSync(`${file}.new`, file); };

    async function ask(p: Probe | string, authorization?: string, headers: Record<string, string> = {}): Promise<Answer> {
      const probe = typeof p === 'string' ? { path: p } : p;
      const r = await request(`${svc.url}${probe.path}`, {
        method: (probe.method ?? 'GET') as 'GET',
        headers: { ...headers, ...(authorization ? { authorization } : {}), ...(probe.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: probe.body === undefined ? undefined : JSON.stringify(probe.body),
      });
      await r.body.dump();
      return { status: r.statusCode, headers: r.headers };
    }
    const what = (p: Probe | string, who: string): string => `${typeof p === 'string' ? p : `${p.method ?? 'GET'} ${p.path}`} ${who}`;

    before(async () => {
      writeFileSync(readersFile, `# feed readers\nbob:${S.bob}\ncarol:${S.carol}\n`);
      writeFileSync(operatorsFile, `ops:${S.ops}\ndana:${S.dana}\n`);
      svc = await s.start({
        API_TOKEN: S.apiToken, API_CLIENTS: `shop-front:${S.client}`,
        FEED_READERS: `billing:${S.billing}`, FEED_READERS_FILE: readersFile,
        OPERATORS_FILE: operatorsFile,
      });
    });
    after(async () => {
      await svc?.close();
      dir.remove();
    });

    it('answers 401 without a credential or with a wrong one, with the challenges of each kind', async () => {
      const kinds = [
        { paths: s.feeds?.paths ?? [], challenge: [`Basic realm="${s.service} feeds", charset="UTF-8"`, `Bearer realm="${s.service} feeds"`] },
        { paths: s.pages, challenge: `Basic realm="${s.service} operators", charset="UTF-8"` },
        { paths: s.writes ?? [], challenge: `Bearer realm="API"` },
      ];
      for (const { paths, challenge } of kinds) {
        for (const p of paths) {
          for (const [who, auth] of [['without', undefined], ['with a wrong secret', bearer(`${S.bob}x`)], ['with a wrong Basic password', basic('bob', S.carol.slice(1))]] as const) {
            const r = await ask(p, auth);
            expect(r.status, what(p, who)).to.equal(401);
            expect(r.headers['www-authenticate'], what(p, who)).to.deep.equal(challenge);
          }
        }
      }
    });

    it('lets each kind in by Bearer and by Basic, and only where it belongs', async () => {
      for (const p of s.feeds?.paths ?? []) {
        for (const auth of [bearer(S.billing), basic('bob', S.bob), basic('anything', S.carol)]) expect((await ask(p, auth)).status, what(p, auth)).to.be.oneOf([200, 204, 303]);
        for (const auth of [basic('ops', S.ops), bearer(S.apiToken)]) expect((await ask(p, auth)).status, what(p, 'as an operator or client')).to.equal(401);
      }
      for (const p of s.pages) {
        for (const auth of [basic('ops', S.ops), bearer(S.dana)]) {
          // Past the guard: the page itself answers (a 404 for an email that does not exist, a redirect...).
          const { status } = await ask(p, auth, { accept: 'text/html' });
          expect(status, what(p, auth)).to.be.within(200, 404).and.not.equal(401);
        }
        for (const auth of [bearer(S.billing), bearer(S.apiToken)]) expect((await ask(p, auth)).status, what(p, 'as a reader or client')).to.equal(401);
      }
      for (const p of s.writes ?? []) {
        for (const auth of [bearer(S.apiToken), bearer(S.client), basic('shop-front', S.client)]) expect((await ask(p, auth)).status, what(p, auth)).not.to.equal(401);
        for (const auth of [bearer(S.billing), basic('ops', S.ops)]) expect((await ask(p, auth)).status, what(p, 'as a reader or operator')).to.equal(401);
      }
    });

    it('leaves the health checks open, and pages with their own protection to it', async () => {
      for (const p of s.open) expect((await ask(p)).status, p).to.equal(200);
      for (const p of s.ownProtection ?? []) expect((await ask(p)).status, p).not.to.equal(401);
    });

    it('refuses a revoked name once its file changes, while the others keep working', async () => {
      if (s.feeds) {
        const feed = s.feeds.paths.includes('/feed') ? '/feed' : s.feeds.paths[0]!;
        expect((await ask(feed, bearer(S.bob))).status).to.equal(200);
        replace(readersFile, `carol:${S.carol}\n`);
        await eventually('bob refused', async () => (await ask(feed, bearer(S.bob))).status === 401);
        expect((await ask(feed, basic('carol', S.carol))).status).to.equal(200);
        expect((await ask(feed, bearer(S.billing))).status).to.equal(200);
      }
      const page = s.pages[0]!;
      replace(operatorsFile, `ops:${S.ops}\n`);
      await eventually('dana refused', async () => (await ask(page, bearer(S.dana))).status === 401);
      expect((await ask(page, basic('ops', S.ops))).status).to.equal(200);
    });

    if (s.feeds) {
      const feedName = s.feeds.name;
      it('checks the credential on the 304 fast path too, and counts each reader in /metrics', async () => {
        const first = await request(`${svc.url}/feed`, { headers: { authorization: bearer(S.billing), accept: 'application/atom+xml' } });
        await first.body.dump();
        const etag = String(first.headers['etag']);
        const conditional = { 'if-none-match': etag, accept: 'application/atom+xml' };
        expect((await ask('/feed', undefined, conditional)).status).to.equal(401);
        expect((await ask('/feed', bearer('not-a-reader-0123456789'), conditional)).status).to.equal(401);
        for (let i = 0; i < 3; i += 1) expect((await ask('/feed', basic('billing', S.billing), conditional)).status).to.equal(304);
        const m = await scrapeMetrics(svc.url, { authorization: basic('ops', S.ops) });
        expect(m.value('feed_requests_total', { feed: feedName, reader: 'billing' })).to.be.at.least(4);
        expect(m.value('feed_requests_total', { feed: feedName, reader: '(refused)' })).to.be.at.least(2);
        expect(m.value('feed_not_modified_total', { feed: feedName })).to.be.at.least(3);
      });
    }
  });
}
