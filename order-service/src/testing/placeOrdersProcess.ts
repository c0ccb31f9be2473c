// Another process writing to the same SQLite file: the concurrency test runs several of these
// beside the service to prove that positions follow commit order with no gaps.
// Usage: tsx placeOrdersProcess.ts <db file> <count> <page size>
import { randomBytes, randomUUID } from 'node:crypto';
import { FeedStore, SqliteCommandEngine, openDatabase } from '@shop/common';
import { OrderStore } from '../db/orderStore.ts';
import { orderIdFrom } from '../domain/orderId.ts';

const [file = '', count, pageSize] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const db = openDatabase(file);
const orders = new OrderStore(db, new SqliteCommandEngine(db, new FeedStore(db, { pageSize }), { newEventId: randomUUID }));
for (let i = 0; i < count; i += 1) {
  orders.place({
    type: 'PlaceOrder', orderId: orderIdFrom(randomBytes(10)), at: new Date().toISOString(),
    customer: { name: `Worker customer ${i}`, email: 'w@example.com' }, currency: 'EUR',
    lines: [{ sku: 'W-1', name: 'Widget', quantity: 1, unitPriceMinor: 100 + i, delivery: 'digital' }], shippingAddress: null,
  });
  if (i % 10 === 0) await new Promise((r) => setImmediate(r));
}
db.close();
