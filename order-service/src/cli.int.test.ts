import { join } from 'node:path';
import { expect } from 'chai';
import { exampleEntryFor, examplesOf, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { runCli } from './cli.ts';
import { type RunningOrderService, startOrderService } from './testing/startOrderService.ts';

describe('The order service command line (npm run cli -w order-service)', function () {
  this.timeout(20_000);
  let dir: ReturnType<typeof tempDir>;
  let shipping: TestFeedServer;
  let svc: RunningOrderService;
  let env: Record<string, string>;

  async function cli(...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await runCli(args, env, (l) => lines.push(l));
    return { code, lines };
  }

  before(async () => {
    dir = tempDir();
    shipping = await startTestFeedServer();
    env = { DATA_DIR: join(dir.path, 'orders'), SHIPPING_FEED_URL: shipping.feedUrl };
    svc = await startOrderService(env['DATA_DIR']!, env);
    // A dispatch whose payload breaks the contract: parked after its attempts, the feed goes on.
    shipping.append(exampleEntryFor(examplesOf('shipping-service', 'ShipmentDispatched')[0]!, 'ORD-AAAAA-00001', { dispatchedAt: 'yesterday' }));
    for (let i = 0; i < 20 && svc.shippingFeed.status().position < 1; i++) {
      if ((await svc.shippingFeed.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
    }
  });
  after(async () => { await svc.close(); await shipping.close(); dir.remove(); });

  it('lists the shipping subscription and its parked entry', async () => {
    const positions = await cli('positions');
    expect(positions.code).to.equal(0);
    expect(positions.lines[0]).to.match(/^shipping position 1 of 1 seen \(0 behind\), parked 1/);
    const parked = await cli('parked', 'shipping');
    expect(parked.lines[0]).to.match(/^shipping urn:uuid:\S+ position 1 ShipmentDispatched order ORD-AAAAA-00001 .*dispatchedAt must be an RFC 3339 date-time/);
  });

  it('names an unknown subscription with the usage (exit 2)', async () => {
    const r = await cli('reset', 'orders');
    expect(r.code).to.equal(2);
    expect(r.lines[0]).to.include('unknown subscription "orders": one of shipping').and.include('npm run cli -w order-service');
  });

  it('with DATABASE_URL reads PostgreSQL, and exits 2 on a database it cannot reach', async () => {
    const lines: string[] = [];
    const code = await runCli(['positions'], { ...env, DATABASE_URL: 'postgres://shop@127.0.0.1:1/orders' }, (l) => lines.push(l));
    expect(code).to.equal(2);
    expect(lines.join('\n')).to.match(/^order-service: cannot open the database at DATABASE_URL: /);
  });
});
