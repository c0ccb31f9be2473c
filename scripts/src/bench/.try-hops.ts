import { request } from 'undici';
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalSystem } from '../system/localSystem.ts';
import { walkFeed } from '../system/feedAudit.ts';
import { ORDER_BODY } from './benchOptions.ts';
const system = new LocalSystem({ dataDir: '/tmp/hops', basePort: 4501, env: { CONSUMER_LONG_POLL: '30', LONG_POLL_SECONDS: '30', POLL_SCHEDULE: '1s', SHIPPING_AUTO_DISPATCH: '0' } });
await system.startAll();
for (let i = 0; i < 20; i++) {
  const r = await request(`${system.urls['order-service']}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
  await r.body.dump();
  await new Promise((res) => setTimeout(res, 300));
}
await new Promise((res) => setTimeout(res, 3000));
const o = await walkFeed(`${system.urls['order-service']}/feed`);
const b = await walkFeed(`${system.urls['billing-service']}/feed`);
const s = await walkFeed(`${system.urls['shipping-service']}/feed`);
const dir = join(system.dataDirOf('notification-service'), 'outbox');
const eml = new Map(readdirSync(dir).map((f) => [/confirmation-(.+)\.eml/.exec(f)?.[1], statSync(join(dir, f)).mtimeMs]));
for (const e of o.entries) {
  const t0 = Date.parse(e.updated);
  const pay = b.entries.find((x) => x.orderId === e.orderId && x.type === 'PaymentReceived');
  const ship = s.entries.filter((x) => x.orderId === e.orderId).map((x) => Date.parse(x.updated) - t0);
  console.log(e.orderId, 'paid +', pay ? Date.parse(pay.updated) - t0 : '-', 'ship +', ship.join('/'), 'eml +', Math.round((eml.get(e.orderId) ?? NaN) - t0));
}
await system.stopAll();
