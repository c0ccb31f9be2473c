import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ServerSpec =
  /** `port` fixes the port and so the base URL: stored archive renditions then survive a rerun. */
  | { readonly kind: 'order-service'; readonly dataDir: string; readonly pageSize: number; readonly port?: number }
  /** An instance on PostgreSQL; several with one `databaseUrl` and `publicUrl` are one service. */
  | { readonly kind: 'order-service-pg'; readonly dataDir: string; readonly pageSize: number; readonly databaseUrl: string; readonly publicUrl: string }
  | { readonly kind: 'bare'; readonly status: number; readonly headers: Record<string, string>; readonly bodyBase64: string }
  | { readonly kind: 'koa-201' };

export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./serverChild.ts', import.meta.url));

/**
 * Starts a benchmark server in a child process (Node + tsx) and resolves with its URL.
 * BENCH_CPU_PROF=dir writes a V8 CPU profile of every server into dir when it stops.
 */
export function startServer(spec: ServerSpec): Promise<ChildServer> {
  const prof = process.env['BENCH_CPU_PROF'];
  const execArgv = ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}/${spec.kind}`] : [])];
  const child: ChildProcess = fork(CHILD, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = (): Promise<void> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server ${spec.kind} exited with ${code} before it was ready`)));
    child.once('message', (m: { ready?: { url: string }; error?: string }) => {
      if (m.ready) resolve({ url: m.ready.url, pid: child.pid!, stop });
      else { void stop(); reject(new Error(`bench server ${spec.kind} failed: ${m.error}`)); }
    });
    child.send(spec);
  });
}

/** Starts servers, runs `fn`, and always stops them. */
export async function withServers<T>(specs: readonly ServerSpec[], fn: (servers: ChildServer[]) => Promise<T>): Promise<T> {
  // Started together (each is a Node + tsx boot), stopped together, even when one fails to start.
  const settled = await Promise.allSettled(specs.map((s) => startServer(s)));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return await fn(started);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}
