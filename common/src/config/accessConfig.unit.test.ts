import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/tempDir.ts';
import { type AccessConfig, isLoopbackHost, readAccessConfig } from './accessConfig.ts';
import { ConfigError, EnvReader } from './env.ts';

const SECRET = 'a-secret-of-some-length';

function read(env: Record<string, string>, o: { writes?: boolean; feeds?: boolean } = { writes: true, feeds: true }): AccessConfig {
  const r = new EnvReader(env);
  const config = readAccessConfig(r, {
    host: env['HOST'] ?? '127.0.0.1',
    writes: o.writes ? { apiToken: env['API_TOKEN'] } : undefined,
    feeds: o.feeds ? { feedToken: env['FEED_TOKEN'] } : undefined,
  });
  r.done();
  return config;
}

function problems(env: Record<string, string>, o?: { writes?: boolean; feeds?: boolean }): readonly string[] {
  try {
    read(env, o);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('Access configuration', () => {
  it('knows loopback addresses from network ones', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'shop.example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopbackHost(h), h).to.equal(false);
  });

  it('leaves everything open on loopback when nothing is set', () => {
    const c = read({});
    expect(c.loopback).to.equal(true);
    expect(c.clients).to.deep.equal({ fixed: [], file: undefined });
    expect(c.readers).to.deep.equal({ fixed: [], file: undefined });
    expect(c.operators).to.deep.equal({ fixed: [], file: undefined });
  });

  it('refuses a network address without credentials, naming each variable to set', () => {
    const found = problems({ HOST: '0.0.0.0' });
    expect(found).to.have.length(3);
    expect(found[0]).to.match(/^HOST=0\.0\.0\.0 is not a loopback address, so writes need a credential: set API_TOKEN \(or API_CLIENTS=name:secret,\.\.\.\), or set ALLOW_OPEN=1/);
    expect(found[1]).to.match(/feeds need a credential per reader: set FEED_READERS=name:secret,\.\.\. \(or FEED_READERS_FILE, or FEED_TOKEN\)/);
    expect(found[2]).to.match(/pages .* need an operator login: set OPERATORS=name:secret,\.\.\. \(or OPERATORS_FILE\)/);
    // A service without writes or feeds (the notification service) needs operators only.
    expect(problems({ HOST: '10.0.0.5' }, {})).to.have.length(1);
    expect(problems({ HOST: '10.0.0.5', OPERATORS: `ops:${SECRET}` }, {})).to.deep.equal([]);
  });

  it('names only what is still missing, and lets ALLOW_OPEN=1 run open on purpose', () => {
    expect(problems({ HOST: '0.0.0.0', API_TOKEN: SECRET, OPERATORS: `ops:${SECRET}x` })).to.have.length(1);
    expect(problems({ HOST: '0.0.0.0', API_CLIENTS: `shop:${SECRET}`, FEED_TOKEN: `${SECRET}y`, OPERATORS: `ops:${SECRET}x` })).to.deep.equal([]);
    const open = read({ HOST: '0.0.0.0', ALLOW_OPEN: '1' });
    expect(open.allowOpen).to.equal(true);
    expect(open.loopback).to.equal(false);
  });

  it('takes the single-secret variables as named credentials, the cache token marked as the cache', () => {
    const c = read({ API_TOKEN: SECRET, FEED_TOKEN: `${SECRET}-feed`, FEED_CACHE_TOKEN: `${SECRET}-cache`, FEED_READERS: `billing:${SECRET}-billing` });
    expect(c.clients?.fixed).to.deep.equal([{ name: '(API_TOKEN)', secret: SECRET }]);
    expect(c.readers?.fixed).to.deep.equal([
      { name: '(FEED_TOKEN)', secret: `${SECRET}-feed` },
      { name: '(cache)', secret: `${SECRET}-cache`, cache: true },
      { name: 'billing', secret: `${SECRET}-billing` },
    ]);
  });

  it('reads FEED_READERS_FILE and OPERATORS_FILE at start, refusing a missing or broken one', () => {
    const dir = tempDir();
    try {
      const good = join(dir.path, 'readers');
      writeFileSync(good, `# comment\nalice:${SECRET}\n`);
      expect(read({ FEED_READERS_FILE: good }).readers?.file).to.equal(good);
      expect(problems({ FEED_READERS_FILE: join(dir.path, 'nope') })[0]).to.match(/^FEED_READERS_FILE names .*nope, which cannot be read \(ENOENT\)$/);
      const broken = join(dir.path, 'broken');
      writeFileSync(broken, 'alice\n');
      expect(problems({ OPERATORS_FILE: broken })).to.deep.equal(['OPERATORS_FILE: line 1 is not name:secret']);
      expect(problems({ FEED_READERS_FILE: good, FEED_READERS: `alice:${SECRET}2` })).to.deep.equal(['FEED_READERS_FILE: "alice" is also in FEED_READERS']);
    } finally {
      dir.remove();
    }
  });
});
