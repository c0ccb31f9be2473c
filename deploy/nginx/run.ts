// Puts nginx (deploy/nginx) in front of services that are already running, until Ctrl-C.
//   npx tsx deploy/nginx/run.ts orders=127.0.0.1:8081:127.0.0.1:3001 [billing=...] [--print]
// Each argument is name=<listen host:port>:<origin host:port>. Start each service with
// PUBLIC_URL=http://<listen host:port> so its feed links point at the proxy.
// --print writes the rendered configuration to stdout instead (for a real deployment).
import { renderNginxConfig } from './nginxConfig.ts';
import { startNginx } from './startNginx.ts';

const args = process.argv.slice(2);
const services = args.filter((a) => !a.startsWith('--')).map((a) => {
  const m = /^([A-Za-z0-9_]+)=([^:]+:\d+):([^:]+:\d+)$/.exec(a);
  if (!m) throw new Error(`"${a}" should look like orders=127.0.0.1:8081:127.0.0.1:3001`);
  return { name: m[1]!, listen: m[2]!, upstream: m[3]! };
});
if (services.length === 0) {
  console.error('usage: npx tsx deploy/nginx/run.ts orders=127.0.0.1:8081:127.0.0.1:3001 [more...] [--print]');
  process.exit(2);
}

if (args.includes('--print')) {
  process.stdout.write(renderNginxConfig({ services, prefix: '/var/lib/feed-cache', cacheDir: '/var/cache/feed-cache', workerProcesses: 'auto', accessLog: '/var/lib/feed-cache/logs/access.log' }));
} else {
  const nginx = await startNginx({ services, workerProcesses: 'auto', accessLog: true, keepPrefix: true });
  for (const s of services) console.log(`${s.name}: http://${s.listen} -> http://${s.upstream} (PUBLIC_URL must be http://${s.listen})`);
  console.log(`nginx ${nginx.pid}, config and logs in ${nginx.prefix}; Ctrl-C stops it`);
  const stop = (): void => { void nginx.stop().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
