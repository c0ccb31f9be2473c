/**
 * The server side of a benchmark, run in its own process (see servers.ts): the load generator
 * stays in the parent, so on a 2-core machine the server under test and autocannon each get a
 * core, and the subject and its baseline are measured in exactly the same arrangement.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { createBaseApp, createLogger, listen, readJsonBody } from '@shop/common';
import { startOrderService } from '../../../order-service/src/testing/startOrderService.ts';
import type { ServerSpec } from './servers.ts';

let close: () => Promise<void> = async () => undefined;

async function start(spec: ServerSpec): Promise<{ url: string }> {
  switch (spec.kind) {
    case 'order-service': {
      const fixed: Record<string, string> = spec.port ? { PORT: String(spec.port), PUBLIC_URL: `http://127.0.0.1:${spec.port}` } : {};
      const s = await startOrderService(spec.dataDir, { FEED_PAGE_SIZE: String(spec.pageSize), LONG_POLL_MAX: '0', ...fixed });
      // Close the database cleanly: the big feeds are cached between runs.
      close = () => s.close();
      return { url: s.url };
    }
    case 'order-service-pg': {
      // Loaded only here: the other servers never load the PostgreSQL driver.
      const { startPgOrderService } = await import('../../../order-service/src/testing/startPgOrderService.ts');
      const s = await startPgOrderService(spec.dataDir, spec.databaseUrl, { FEED_PAGE_SIZE: String(spec.pageSize), LONG_POLL_MAX: '0', PUBLIC_URL: spec.publicUrl });
      close = () => s.close();
      return { url: s.url };
    }
    case 'bare': {
      // The same bytes and headers the subject sent, and nothing else: the limit for node:http.
      const body = Buffer.from(spec.bodyBase64, 'base64');
      const server = createServer((req, res) => {
        req.resume();
        res.writeHead(spec.status, spec.headers);
        res.end(body);
      });
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }
    case 'koa-201': {
      // The order service's own middleware stack and body parsing, but no domain and no storage.
      const app = createBaseApp(createLogger({}, 'silent'));
      const router = new Router();
      let n = 0;
      router.post('/orders', async (ctx) => {
        const body = await readJsonBody(ctx);
        n += 1;
        ctx.status = 201;
        ctx.set('Location', `/orders/ORD-${n}`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { orderId: `ORD-${n}`, status: 'placed', order: body };
      });
      app.use(router.routes()).use(router.allowedMethods());
      const s = await listen(app, '127.0.0.1', 0);
      return { url: s.url };
    }
    default:
      return assertNever(spec);
  }
}

function assertNever(x: never): never {
  throw new Error(`Unknown server spec ${JSON.stringify(x)}`);
}

process.once('message', (spec: ServerSpec) => {
  start(spec).then(
    (ready) => process.send!({ ready }),
    (err: unknown) => process.send!({ error: err instanceof Error ? err.stack : String(err) }),
  );
});
const stop = (): void => { close().finally(() => process.exit(0)); };
process.on('disconnect', stop);
process.on('SIGTERM', stop);
