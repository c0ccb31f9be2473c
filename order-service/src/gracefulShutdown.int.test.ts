import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { call, type Reply, scrapeMetrics, tempDir } from '@shop/common/testing';
import { expect } from 'chai';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The order service as production runs it: its own process, real signals. */
async function startProcess(dataDir: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; exited: Promise<[number | null, NodeJS.Signals | null]> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"msg":"listening","url":"([^"]+)"/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    void exited.then(([code]) => reject(new Error(`the service exited (${code}) before listening:\n${output}`)));
  });
  return { child, url, exited };
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

describe('The order service process on SIGTERM', function () {
  this.timeout(20_000);
  const dir = tempDir();
  after(() => dir.remove());

  it('reports not ready at once, answers the long poll in flight, then exits 0', async () => {
    const svc = await startProcess(dir.path, { SHUTDOWN_DELAY: '2' });
    try {
      const etag = (await call('GET', `${svc.url}/feed`)).headers['etag']!;
      let answered: Reply | undefined;
      const longPoll = call('GET', `${svc.url}/feed`, undefined, { 'if-none-match': etag, prefer: 'wait=60' }).then((r) => { answered = r; return r; });
      await until(async () => (await scrapeMetrics(svc.url)).value('feed_long_polls_waiting', { feed: 'orders' }) === 1);

      svc.child.kill('SIGTERM');
      let readyz: Reply;
      do readyz = await call('GET', `${svc.url}/readyz`); while (readyz.status === 200);
      expect(readyz.status).to.equal(503);
      expect(readyz.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(readyz.json()['detail']).to.match(/shutting down/);
      expect(answered, 'the long poll is still held while load balancers take the instance out').to.equal(undefined);
      expect((await call('GET', `${svc.url}/healthz`)).status, 'still alive meanwhile').to.equal(200);

      const r = await longPoll;
      expect(r.status, 'answered as at its timeout, not cut').to.equal(304);
      expect(r.headers['preference-applied']).to.equal('wait=60');
      const [code, signal] = await svc.exited;
      expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
      const refused = await call('GET', `${svc.url}/healthz`).then(() => false, () => true);
      expect(refused, 'no longer listening').to.equal(true);
    } finally {
      if (svc.child.exitCode === null && svc.child.signalCode === null) svc.child.kill('SIGKILL');
    }
  });
});
