import { join } from 'node:path';
import { type Db, createLogger, migrate, openDatabase } from '@shop/common';
import { takePort } from '@shop/common/testing';
import { type BillingApp, createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { migrations } from '../db/migrations.ts';

export interface RunningBillingService extends BillingApp {
  readonly url: string;
  readonly db: Db;
  close(): Promise<void>;
}

/** Billing on a real port and a real SQLite file, configured as from the environment; never polls by itself. */
export async function startBillingService(dataDir: string, env: Record<string, string> = {}, now?: () => Date): Promise<RunningBillingService> {
  const port = await takePort();
  const { url } = port;
  const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: url, CONSUMER_LONG_POLL: '0', ...env });
  const db = openDatabase(join(config.dataDir, 'billing.db'));
  migrate(db, migrations);
  const built = createApp({ db, config, logger: createLogger({}, 'silent'), consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 }, ...(now ? { now } : {}) });
  port.serve(built.handler);
  return {
    ...built,
    url,
    db,
    close: async () => {
      await built.orderFeed.close();
      await port.close();
      db.close();
    },
  };
}

/** An order feed payload (contract v1) like the order service publishes; override what a test needs. */
export function orderPlacedPayload(orderId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    orderId,
    placedAt: '2025-06-06T10:00:00.000Z',
    customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
    currency: 'GBP',
    lines: [
      { sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, unitPrice: '12.50', lineTotal: '25.00', delivery: 'physical' },
      { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', lineTotal: '4.99', delivery: 'digital' },
      { sku: 'MUG-3', name: 'Difference Engine mug', quantity: 1, unitPrice: '8.33', lineTotal: '8.33', delivery: 'physical' },
    ],
    subtotal: '38.32',
    shippingAddress: { line1: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    ...over,
  };
}
