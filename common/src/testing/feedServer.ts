import { randomUUID } from 'node:crypto';
import { openDatabase, migrate, inWriteTransaction, type Db } from '../db/database.ts';
import { FeedPublisher } from '../feed/feedPublisher.ts';
import { createFeedRouter } from '../feed/feedRoutes.ts';
import { FeedStore, feedMigrations } from '../feed/feedStore.ts';
import type { NewFeedEntry, StoredFeedEntry } from '../feed/feedEntry.ts';
import { createBaseApp } from '../http/baseApp.ts';
import { Credentials } from '../http/credentials.ts';
import { createLogger } from '../log/logger.ts';
import { createFeedFastPath, withFastPath } from '../feed/feedFastPath.ts';
import { takePort } from './http.ts';
import { el } from '../xml/xhtml.ts';

export interface TestFeedServer {
  readonly url: string;
  readonly feedUrl: string;
  readonly store: FeedStore;
  readonly publisher: FeedPublisher;
  readonly db: Db;
  /** Every request served, oldest first: path, status and response size (for cost assertions). */
  readonly requests: ServedRequest[];
  /** Set to make the server misbehave on chosen paths: return a response to send instead of the real one. */
  fault: ((path: string) => FaultResponse | undefined) | undefined;
  /** Appends one entry in its own transaction. */
  append(entry?: Partial<NewFeedEntry>): StoredFeedEntry;
  close(): Promise<void>;
}

export interface FaultResponse {
  readonly status: number;
  readonly body: string;
  readonly type?: string;
}

export interface ServedRequest {
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly ifNoneMatch: string | undefined;
}

/**
 * A real feed on a real port, served by common's publisher, for tests of anything that reads
 * feeds. `file` defaults to an in-memory database.
 */
export async function startTestFeedServer(options: { pageSize?: number; file?: string; title?: string; port?: number; maxAgeSeconds?: number; feedToken?: string; now?: () => Date } = {}): Promise<TestFeedServer> {
  const db = openDatabase(options.file ?? ':memory:');
  migrate(db, feedMigrations);
  const store = new FeedStore(db, { pageSize: options.pageSize ?? 5, now: options.now });
  const publisher = new FeedPublisher({
    store, serviceName: 'test-service', title: options.title ?? 'Test feed', description: 'A feed for tests',
    categories: ['TestHappened'], maxAgeSeconds: options.maxAgeSeconds ?? 0, privateFeed: options.feedToken !== undefined,
  });
  const logger = createLogger({ service: 'test' }, 'silent');
  const app = createBaseApp(logger);
  const requests: ServedRequest[] = [];
  const control: { fault: TestFeedServer['fault'] } = { fault: undefined };
  app.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const body = ctx.body as unknown;
      const bytes = Buffer.isBuffer(body) ? body.length : typeof body === 'string' ? Buffer.byteLength(body) : 0;
      requests.push({ path: ctx.path, status: ctx.status, bytes, ifNoneMatch: ctx.get('If-None-Match') || undefined });
    }
  });
  // The links need the port: take it first, then build the routes and start serving.
  const port = await takePort(options.port ?? 0);
  const readers = options.feedToken === undefined ? undefined : Credentials.of('reader', [{ name: '(FEED_TOKEN)', secret: options.feedToken }]);
  const feedOptions = { publisher, baseUrl: port.url, readers, longPollMaxSeconds: 30 };
  app.use(async (ctx, next) => {
    const f = control.fault?.(ctx.path);
    if (!f) return next();
    ctx.status = f.status;
    ctx.type = f.type ?? 'application/atom+xml';
    ctx.body = f.body;
  });
  app.use(createFeedRouter(feedOptions).routes());
  const fast = createFeedFastPath(feedOptions);
  port.serve(withFastPath((req, res) => {
    if (control.fault?.(new URL(req.url ?? '/', 'http://x').pathname) || !fast(req, res)) return false;
    requests.push({ path: '/feed', status: 304, bytes: 0, ifNoneMatch: req.headers['if-none-match'] });
    return true;
  }, app.callback()));
  const server = { url: port.url, close: () => port.close() };
  return {
    get fault() { return control.fault; },
    set fault(f) { control.fault = f; },
    url: server.url,
    feedUrl: `${server.url}/feed`,
    store,
    publisher,
    db,
    requests,
    append: (entry = {}) => inWriteTransaction(db, () => store.append({
      key: randomUUID(), type: 'TestHappened', typeLabel: 'Test happened', title: 'Something happened',
      orderId: `ORD-${randomUUID().slice(0, 8)}`, summary: 'Something happened.', content: el('p', null, 'Something happened.'),
      payload: {}, ...entry,
    })),
    close: async () => { await server.close(); db.close(); },
  };
}
