import { EnvReader, type PublisherConfig, readPublisherConfig } from '@shop/common';

export type OrderServiceConfig = PublisherConfig;

/** Reads the order service's configuration once; throws a ConfigError naming every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Readonly<OrderServiceConfig> {
  const r = new EnvReader(env);
  const config = readPublisherConfig(r, { port: 3001, dataDir: './data/order-service' });
  r.done();
  return Object.freeze(config);
}
