// `npm run demo`: against the running system (npm start), places a handful of realistic orders,
// shows progress while billing, shipping and notifications do their work, and says where to look.
import { randomUUID } from 'node:crypto';
import { request } from 'undici';

const ORDER = process.env['ORDER_URL'] ?? 'http://127.0.0.1:3001';
const BILLING = process.env['BILLING_URL'] ?? 'http://127.0.0.1:3002';
const SHIPPING = process.env['SHIPPING_URL'] ?? 'http://127.0.0.1:3003';
const NOTIFY = process.env['NOTIFICATION_URL'] ?? 'http://127.0.0.1:3004';
const TIMEOUT_S = Number(process.env['DEMO_TIMEOUT'] ?? 120);

const london = { line1: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };

/** `emails`: what the customer should get; a digital-only order has nothing to dispatch. */
interface DemoOrder { readonly label: string; readonly body: Record<string, unknown>; readonly cancel?: boolean; readonly emails: readonly ('confirmation' | 'dispatched')[] }

const ORDERS: readonly DemoOrder[] = [
  {
    label: 'books and an eBook to London', emails: ['confirmation', 'dispatched'],
    body: { customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, currency: 'GBP', shippingAddress: london,
      lines: [{ sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, unitPrice: '12.50', delivery: 'physical' },
        { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' }] },
  },
  {
    label: 'a digital-only order (no address)', emails: ['confirmation'],
    body: { customer: { name: 'Grace Hopper', email: 'grace@example.com' }, currency: 'EUR',
      lines: [{ sku: 'EBOOK-9', name: 'Compilers, Illustrated (eBook)', quantity: 1, unitPrice: '19.00', delivery: 'digital' }] },
  },
  {
    label: 'a mug to Berlin, in euros', emails: ['confirmation', 'dispatched'],
    body: { customer: { name: 'Konrad Zuse', email: 'konrad@example.com' }, currency: 'EUR',
      shippingAddress: { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' },
      lines: [{ sku: 'MUG-Z3', name: 'Z3 mug', quantity: 2, unitPrice: '9.90', delivery: 'physical' }] },
  },
  {
    label: 'a hostile customer name', emails: ['confirmation', 'dispatched'],
    body: { customer: { name: '<script>alert(1)</script> & "Bob"', email: 'bob@example.com' }, currency: 'GBP', shippingAddress: london,
      lines: [{ sku: 'BOOK-2', name: 'Bobby <b>Tables</b>', quantity: 1, unitPrice: '7.00', delivery: 'physical' }] },
  },
  {
    label: 'an order cancelled straight away', emails: [], cancel: true,
    body: { customer: { name: 'Charles Babbage', email: 'charles@example.com' }, currency: 'GBP', shippingAddress: london,
      lines: [{ sku: 'BOOK-3', name: 'Passages from the Life of a Philosopher', quantity: 1, unitPrice: '15.00', delivery: 'physical' }] },
  },
];

async function json(method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await request(url, { method, headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

async function reachable(url: string): Promise<boolean> {
  try {
    const r = await request(url, { headersTimeout: 2000 });
    await r.body.dump();
    return r.statusCode < 500;
  } catch {
    return false;
  }
}

const auth: Record<string, string> = process.env['API_TOKEN'] ? { authorization: `Bearer ${process.env['API_TOKEN']}` } : {};

const down = [];
for (const [name, url] of [['order-service', `${ORDER}/feed`], ['billing-service', `${BILLING}/feed`], ['shipping-service', `${SHIPPING}/feed`], ['notification-service', `${NOTIFY}/status`]] as const) {
  if (!(await reachable(url))) down.push(`${name} (${url})`);
}
if (down.includes(`order-service (${ORDER}/feed)`)) {
  console.error(`The order service is not answering at ${ORDER}. Start the system first: npm start`);
  process.exit(1);
}
if (down.length > 0) console.log(`Not answering yet: ${down.join(', ')}. Orders will wait for them in the feeds.\n`);

console.log('Placing orders:');
const placed: { id: string; demo: DemoOrder }[] = [];
for (const demo of ORDERS) {
  const r = await json('POST', `${ORDER}/orders`, demo.body, { 'idempotency-key': randomUUID(), ...auth });
  if (r.status !== 201) {
    console.error(`  ${demo.label}: refused with ${r.status}: ${JSON.stringify(r.body)}`);
    process.exit(1);
  }
  placed.push({ id: r.body.id, demo });
  console.log(`  ${r.body.id}  ${demo.label}`);
  if (demo.cancel) {
    const c = await json('POST', `${ORDER}/orders/${r.body.id}/cancel`, { reason: 'Ordered by mistake' }, auth);
    console.log(`  ${r.body.id}  cancelled (${c.status})`);
  }
}

const expected = placed.flatMap((p) => p.demo.emails.map((kind) => ({ id: p.id, kind })));
const count = (kind: string) => expected.filter((e) => e.kind === kind).length;
console.log(`\nWaiting for ${count('confirmation')} confirmation and ${count('dispatched')} dispatch emails (the cancelled order gets none)...`);
const started = Date.now();
let last = '';
for (;;) {
  const r = await json('GET', `${NOTIFY}/emails`).catch(() => ({ status: 0, body: undefined }));
  const emails: { orderId: string; kind: string }[] = r.body?.emails ?? [];
  const arrived = (kind: string) => expected.filter((x) => x.kind === kind && emails.some((e) => e.orderId === x.id && e.kind === kind)).length;
  const line = `  ${arrived('confirmation')}/${count('confirmation')} confirmations, ${arrived('dispatched')}/${count('dispatched')} dispatch emails`;
  if (line !== last) { console.log(`${line}  (${Math.round((Date.now() - started) / 1000)} s)`); last = line; }
  if (arrived('confirmation') === count('confirmation') && arrived('dispatched') === count('dispatched')) break;
  if (Date.now() - started > TIMEOUT_S * 1000) {
    console.log(`\nNot all emails arrived within ${TIMEOUT_S} s. Is everything running (npm start), with BILLING_AUTO_CAPTURE=1 and SHIPPING_AUTO_DISPATCH=1? See ${NOTIFY}/status`);
    process.exit(1);
  }
  await new Promise((res) => setTimeout(res, 500));
}
const cancelledEmails = ((await json('GET', `${NOTIFY}/emails`)).body?.emails ?? []).filter((e: { orderId: string }) => placed.some((p) => p.demo.cancel && p.id === e.orderId));
console.log(`  the cancelled order got ${cancelledEmails.length} emails`);

console.log(`
Where to look:
  the feeds in a browser   ${ORDER}/feed   ${BILLING}/feed   ${SHIPPING}/feed
  the emails               ${NOTIFY}/emails   (each opens as it would in a mail client)
  the poller's state       ${NOTIFY}/status
  the .eml files           ./data/notification-service/outbox/
  one order as JSON        curl ${ORDER}/orders/${placed[0]!.id}`);
