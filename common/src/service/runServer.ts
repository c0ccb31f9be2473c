import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { ConfigError } from '../config/env.ts';

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  /**
   * Stops listening and resolves once the requests in flight are answered (a long poll should be
   * released first: see ServiceHealth.shutDown). Connections still busy after `graceMs`
   * (default 10 s) are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/** Listens on host:port (0 picks a free port) and resolves once it accepts connections. */
export function listen(app: Koa | RequestListener, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = createServer(typeof app === 'function' ? app : app.callback()).listen(port, host);
    server.keepAliveTimeout = 65_000;
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
        ? new ConfigError([`cannot listen on ${host}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use (is this service running already? stop it, or set PORT)' : err.code}`])
        : err);
    });
    server.once('listening', () => {
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${h}:${addr.port}`,
        close: (graceMs = 10_000) => new Promise<void>((done) => {
          // A keep-alive connection stays open after its last response and would hold the close
          // open: close each one as soon as it is idle, the busy ones once their response is sent.
          const sweep = setInterval(() => server.closeIdleConnections(), 50);
          const cut = setTimeout(() => server.closeAllConnections(), graceMs);
          server.close(() => { clearInterval(sweep); clearTimeout(cut); done(); });
          server.closeIdleConnections();
        }),
      });
    });
  });
}

/**
 * Runs `stop` once on SIGINT or SIGTERM, then exits. A second signal exits at once.
 */
export function onShutdown(stop: () => Promise<void>, log: (msg: string) => void): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`received ${signal}, shutting down`);
    stop().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
