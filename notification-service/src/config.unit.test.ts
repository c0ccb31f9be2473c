import { ConfigError } from '@shop/common';
import { expect } from 'chai';
import { readConfig } from './config.ts';

describe('readConfig', () => {
  describe('SHARD', () => {
    it('defaults to 0/1, the one instance that acts on every order', () => {
      expect(readConfig({}).shard).to.deep.equal({ index: 0, count: 1 });
    });

    it('reads i/N', () => {
      expect(readConfig({ SHARD: '1/3', VIEW_LINK_SECRET: 'sixteen-chars-ok' }).shard).to.deep.equal({ index: 1, count: 3 });
    });

    it('refuses i not below N, N of 0 and anything not shaped i/N, naming the variable and the value', () => {
      const problemsOf = (value: string) => {
        try {
          readConfig({ SHARD: value });
        } catch (err) {
          expect(err).to.be.instanceOf(ConfigError);
          return (err as ConfigError).problems;
        }
        return [];
      };
      expect(problemsOf('2/2')).to.deep.equal(['SHARD i must be from 0 to N-1 (shards are numbered from 0), got "2/2" (SHARD=i/N: this instance is number i, from 0, of N instances)']);
      expect(problemsOf('0/0')[0]).to.match(/^SHARD N must be from 1 to 1024, got "0\/0"/);
      expect(problemsOf('1of2')[0]).to.match(/^SHARD must look like i\/N, e.g. 0\/2 .*got "1of2"/);
    });
  });

  describe('FEED_ALLOWED_ORIGINS', () => {
    it('defaults to none: every feed is read from its own origin only', () => {
      expect(readConfig({}).feedAllowedOrigins).to.deep.equal([]);
    });

    it('reads a comma-separated list of http(s) origins, in the form URL.origin gives', () => {
      expect(readConfig({ FEED_ALLOWED_ORIGINS: 'https://CDN.example.com/, http://10.0.0.5:8080,https://archive.example.com:443' }).feedAllowedOrigins)
        .to.deep.equal(['https://cdn.example.com', 'http://10.0.0.5:8080', 'https://archive.example.com']);
    });

    it('refuses anything that is not a bare http(s) origin, naming the variable and each bad value', () => {
      let problems: readonly string[] = [];
      try {
        readConfig({ FEED_ALLOWED_ORIGINS: 'https://ok.example.com,https://cdn.example.com/feeds,cdn.example.com,ftp://files.example.com,https://u:p@x.example.com,https://q.example.com?x=1' });
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        problems = (err as ConfigError).problems;
      }
      expect(problems).to.have.length(5);
      expect(problems.every((p) => p.startsWith('FEED_ALLOWED_ORIGINS must be a comma-separated list of origins like https://cdn.example.com'))).to.equal(true);
      expect(problems.map((p) => /; (".*)$/.exec(p)?.[1])).to.deep.equal([
        '"https://cdn.example.com/feeds" has a path, query or fragment',
        '"cdn.example.com" is not an absolute URL',
        '"ftp://files.example.com" is not http or https',
        '"https://u:p@x.example.com" has credentials',
        '"https://q.example.com?x=1" has a path, query or fragment',
      ]);
    });
  });

  describe('OUTBOX_MAX_AGE_HOURS', () => {
    it('gives an email up after 72 hours by default, or the hours set', () => {
      expect(readConfig({}).outboxRetry.maxAgeMs).to.equal(72 * 3_600_000);
      expect(readConfig({ OUTBOX_MAX_AGE_HOURS: '120' }).outboxRetry.maxAgeMs).to.equal(120 * 3_600_000);
      expect(() => readConfig({ OUTBOX_MAX_AGE_HOURS: '0' })).to.throw(ConfigError, /OUTBOX_MAX_AGE_HOURS must be a whole number from 1/);
    });
  });

  describe('PUBLIC_URL and VIEW_LINK_SECRET (the "view in your browser" links)', () => {
    it('links to the service where it listens by default, and generates the secret (none configured)', () => {
      expect(readConfig({ PORT: '3014' })).to.deep.include({ publicUrl: 'http://127.0.0.1:3014', viewLinkSecret: undefined });
      expect(readConfig({ HOST: '::1' }).publicUrl).to.equal('http://[::1]:3004');
    });

    it('refuses a HOST other than loopback without PUBLIC_URL, naming it: the links would point at this machine', () => {
      for (const host of ['0.0.0.0', '10.0.0.5', '::']) {
        expect(() => readConfig({ HOST: host, ALLOW_OPEN: '1' }), host).to.throw(ConfigError, /PUBLIC_URL must be set when HOST .* is not a loopback address/);
      }
      expect(readConfig({ HOST: '0.0.0.0', ALLOW_OPEN: '1', PUBLIC_URL: 'https://mail.shop.example' }).publicUrl).to.equal('https://mail.shop.example');
    });

    it('refuses more than one shard without VIEW_LINK_SECRET, naming it: each instance would sign with its own', () => {
      expect(() => readConfig({ SHARD: '1/2' })).to.throw(ConfigError, /VIEW_LINK_SECRET must be set when SHARD \(1\/2\) names more than one instance/);
      expect(readConfig({ SHARD: '1/2', VIEW_LINK_SECRET: 'sixteen-chars-ok' }).viewLinkSecret).to.equal('sixteen-chars-ok');
      expect(readConfig({ SHARD: '0/1' }).viewLinkSecret).to.equal(undefined);
    });

    it('reads a public base URL and a secret of at least 16 characters', () => {
      expect(readConfig({ PUBLIC_URL: 'https://mail.shop.example/n/', VIEW_LINK_SECRET: 'sixteen-chars-ok' })).to.deep.include({ publicUrl: 'https://mail.shop.example/n', viewLinkSecret: 'sixteen-chars-ok' });
      expect(() => readConfig({ VIEW_LINK_SECRET: 'short' })).to.throw(ConfigError, /VIEW_LINK_SECRET must be at least 16 characters/);
      expect(() => readConfig({ PUBLIC_URL: 'mail.shop.example' })).to.throw(ConfigError, /PUBLIC_URL must be an absolute http\(s\) URL/);
    });
  });

  describe('DATABASE_URL, PARTITIONS and INSTANCE_NAME (instances sharing PostgreSQL)', () => {
    const url = 'postgres://shop@db.internal:5432/notification';
    it('reads them; PARTITIONS unset leaves it to the database (16 for a new one)', () => {
      expect(readConfig({ DATABASE_URL: url })).to.deep.include({ databaseUrl: url, partitions: undefined });
      expect(readConfig({ DATABASE_URL: url, PARTITIONS: '32', INSTANCE_NAME: 'mail-1' })).to.deep.include({ partitions: 32, instanceName: 'mail-1' });
      expect(readConfig({}).instanceName).to.match(/^.+-\d+$/);
    });

    it('needs no VIEW_LINK_SECRET: the instances share the one kept in the database', () => {
      expect(readConfig({ DATABASE_URL: url }).viewLinkSecret).to.equal(undefined);
    });

    it('refuses SHARD with DATABASE_URL, PARTITIONS without it, a cron schedule with it, and a URL that is not postgres, naming each', () => {
      const problemsOf = (env: Record<string, string>) => {
        try { readConfig(env); } catch (err) { return (err as ConfigError).problems.join('\n'); }
        return '';
      };
      expect(problemsOf({ DATABASE_URL: url, SHARD: '0/2', VIEW_LINK_SECRET: 'sixteen-chars-ok' })).to.match(/SHARD is for instances on SQLite.*unset SHARD/);
      expect(problemsOf({ PARTITIONS: '8' })).to.match(/PARTITIONS applies only with DATABASE_URL/);
      expect(problemsOf({ DATABASE_URL: url, POLL_SCHEDULE: '*/5 * * * * *' })).to.match(/POLL_SCHEDULE must be an interval .* with DATABASE_URL/);
      expect(problemsOf({ DATABASE_URL: 'mysql://db/notification' })).to.match(/DATABASE_URL must be a postgres:\/\/ .*URL/);
      expect(problemsOf({ DATABASE_URL: url, PARTITIONS: '0' })).to.match(/PARTITIONS must be a whole number from 1 to 1024/);
      expect(problemsOf({ INSTANCE_NAME: 'ip-10-0-1-23.eu-west-1.compute.internal-12345' })).to.match(/INSTANCE_NAME must be 1 to 40 letters/);
      expect(problemsOf({ INSTANCE_NAME: 'mail 1' })).to.match(/INSTANCE_NAME must be/);
    });
  });
});
