// Secure by default off loopback: each service, started as the real process on 0.0.0.0 with no
// credentials, refuses to start (exit 2, naming the variables to set); with ALLOW_OPEN=1 it
// starts and says, as a warning, what it leaves open.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect } from 'chai';
import { request } from 'undici';
import { tempDir } from '../common/src/testing/tempDir.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Far beyond a normal start: a deadline for a process that never answers, not a timing. */
const DEADLINE_MS = 60_000;
const CREDENTIALS = ['API_TOKEN', 'API_CLIENTS', 'FEED_TOKEN', 'FEED_READERS', 'FEED_READERS_FILE', 'FEED_CACHE_TOKEN', 'OPERATORS', 'OPERATORS_FILE', 'ALLOW_OPEN'];

interface Run { readonly child: ChildProcess; readonly out: () => string; readonly err: () => string; readonly exited: Promise<number | null> }

function run(service: string, dataDir: string, env: Record<string, string>): Run {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !CREDENTIALS.includes(k)));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, service, 'src', 'main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...base, INIT_CWD: ROOT, LOG_LEVEL: 'info', HOST: '0.0.0.0', PORT: '0', DATA_DIR: dataDir,
      // Nothing listens on the discard port: no service reads anyone's real feeds.
      ORDER_FEED_URL: 'http://127.0.0.1:9/feed', BILLING_FEED_URL: 'http://127.0.0.1:9/feed', SHIPPING_FEED_URL: 'http://127.0.0.1:9/feed',
      ...env,
    },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until<T>(what: string, probe: () => T | undefined, r: Run): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (r.child.exitCode !== null) throw new Error(`${what}: the process exited (${r.child.exitCode})\n${r.out()}\n${r.err()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS / 1000} s\n${r.out()}\n${r.err()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const SERVICES = [
  { name: 'order-service', needs: ['API_TOKEN', 'FEED_READERS', 'OPERATORS'] },
  { name: 'billing-service', needs: ['API_TOKEN', 'FEED_READERS', 'OPERATORS'] },
  { name: 'shipping-service', needs: ['API_TOKEN', 'FEED_READERS', 'OPERATORS'] },
  // Off loopback its "view in your browser" links need the address customers reach it at.
  { name: 'notification-service', needs: ['OPERATORS'], env: { PUBLIC_URL: 'https://mail.shop.example' } },
] as { name: string; needs: string[]; env?: Record<string, string> }[];

describe('Secure by default on a network address', function () {
  this.timeout(2 * DEADLINE_MS + 10_000);
  const dir = tempDir('secure-default-');
  const running: Run[] = [];
  after(async () => {
    for (const r of running) if (r.child.exitCode === null) { r.child.kill('SIGKILL'); await r.exited; }
    dir.remove();
  });

  for (const s of SERVICES) {
    describe(s.name, () => {
      it(`refuses to start on 0.0.0.0 without credentials, exiting 2 and naming ${s.needs.join(', ')}`, async () => {
        const r = run(s.name, join(dir.path, `${s.name}-closed`), {});
        running.push(r);
        expect(await r.exited, r.err()).to.equal(2);
        const message = r.err();
        expect(message).to.include(`${s.name}: Invalid configuration`);
        for (const v of s.needs) expect(message, v).to.include(`set ${v}`);
        expect(message.match(/HOST=0\.0\.0\.0 is not a loopback address/g)).to.have.length(s.needs.length);
        expect(message).to.include('ALLOW_OPEN=1');
        if (!s.needs.includes('API_TOKEN')) expect(message).not.to.include('API_TOKEN');
      });

      it('starts with ALLOW_OPEN=1, with a warning saying what is open', async () => {
        const r = run(s.name, join(dir.path, `${s.name}-open`), { ALLOW_OPEN: '1', ...s.env });
        running.push(r);
        const lines = (): Record<string, unknown>[] => r.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
        const listening = await until('listening', () => lines().find((l) => l['msg'] === 'listening'), r);
        // An answer from the process means it has run past start-up, signal handlers included.
        const port = new URL(String(listening['url'])).port;
        const health = await request(`http://127.0.0.1:${port}/healthz`);
        expect(health.statusCode).to.equal(200);
        await health.body.dump();
        const warning = lines().find((l) => l['level'] === 'warn' && String(l['msg']).startsWith('ALLOW_OPEN=1'));
        expect(warning, r.out()).not.to.equal(undefined);
        expect(String(warning!['msg'])).to.include(`${s.name} listens on 0.0.0.0`);
        for (const v of s.needs) expect(JSON.stringify(warning!['open'])).to.include(v);
        r.child.kill('SIGTERM');
        expect(await r.exited).to.equal(0);
      });
    });
  }
});
