import { type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { ConfigError } from '../config/env.ts';

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
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
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          // Long polls and idle keep-alive sockets would otherwise hold the close open.
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 1000).unref();
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
