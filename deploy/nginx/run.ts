// Puts nginx (deploy/nginx) in front of services that are already running, until Ctrl-C.
//   npx tsx deploy/nginx/run.ts orders=127.0.0.1:8081:127.0.0.1:3001 [billing=...] [--print]
// Each argument is name=<listen host:port>:<origin host:port>[,<origin host:port>...] (several
// origins: instances of one service on one PostgreSQL database). Start each service with
// PUBLIC_URL=http://<listen host:port> so its feed links point at the proxy.
// A service whose feeds need credentials: give nginx the origin's FEED_CACHE_TOKEN, as
// <NAME>_FEED_CACHE_TOKEN (ORDERS_FEED_CACHE_TOKEN=... for orders=...) or FEED_CACHE_TOKEN for
// every service listed; nginx then checks each reader with the origin and caches for all.
// --print writes the rendered configuration to stdout instead (for a real deployment).
import { renderNginxConfig } from './nginxConfig.ts';
import { startNginx } from './startNginx.ts';

const args = process.argv.slice(2);
const services = args.filter((a) => !a.startsWith('--')).map((a) => {
  const m = /^([A-Za-z0-9_]+)=([^:]+:\d+):((?:[^:,]+:\d+,)*[^:,]+:\d+)$/.exec(a);
  if (!m) throw new Error(`"${a}" should look like orders=127.0.0.1:8081:127.0.0.1:3001`);
  const cacheToken = process.env[`${m[1]!.toUpperCase()}_FEED_CACHE_TOKEN`] || process.env['FEED_CACHE_TOKEN'] || undefined;
  return { name: m[1]!, listen: m[2]!, upstream: m[3]!, ...(cacheToken ? { cacheToken } : {}) };
});
if (services.length === 0) {
  console.error('usage: npx tsx deploy/nginx/run.ts orders=127.0.0.1:8081:127.0.0.1:3001 [more...] [--print]');
  process.exit(2);
}

if (args.includes('--print')) {
  // The credential checks' cache on tmpfs (/run): its keys hold credentials and it is never needed after a restart.
  process.stdout.write(renderNginxConfig({ services, prefix: '/var/lib/feed-cache', cacheDir: '/var/cache/feed-cache', authCacheDir: '/run/feed-cache/auth', workerProcesses: 'auto', accessLog: '/var/lib/feed-cache/logs/access.log' }));
} else {
  const nginx = await startNginx({ services, workerProcesses: 'auto', accessLog: true, keepPrefix: true });
  for (const s of services) console.log(`${s.name}: http://${s.listen} -> http://${s.upstream} (PUBLIC_URL must be http://${s.listen}; ${s.cacheToken ? 'protected: readers checked with the origin' : 'open'})`);
  console.log(`nginx ${nginx.pid}, config and logs in ${nginx.prefix}; Ctrl-C stops it`);
  const stop = (): void => { void nginx.stop().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
