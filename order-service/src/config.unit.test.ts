import { expect } from 'chai';
import { ConfigError } from '@shop/common';
import { loadConfig } from './config.ts';
import { EU_MEMBERS } from './domain/shipToCountries.ts';

const PAGE_SIZE_WHY = 'a page of 1000 entries is already about 2.6 MB, and much bigger ones exceed the 8 MiB a feed consumer accepts, so no reader could ever read them';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('Order service config', () => {
  it('has working defaults', () => {
    const c = loadConfig({ INIT_CWD: '/srv/shop' });
    expect(c).to.include({ port: 3001, host: '127.0.0.1', dataDir: '/srv/shop/data/order-service', publicUrl: 'http://127.0.0.1:3001', feedPageSize: 100 });
    expect(c).to.include({ shippingFeedUrl: 'http://127.0.0.1:3003/feed', shippingFeedToken: undefined, consumerLongPollSeconds: 30, shopTimeZone: 'Europe/London' });
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('keeps the orders in SQLite without DATABASE_URL, and takes only a postgres:// URL', () => {
    expect(loadConfig({}).databaseUrl).to.equal(undefined);
    expect(loadConfig({ DATABASE_URL: 'postgres://shop@db.internal:5432/orders' }).databaseUrl).to.equal('postgres://shop@db.internal:5432/orders');
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/orders' }).databaseUrl).to.equal('postgresql://db/orders');
    for (const bad of ['mysql://db/orders', 'orders.db', 'postgres//db']) {
      const [problem] = problemsOf({ DATABASE_URL: bad });
      expect(problem).to.match(/^DATABASE_URL must be a postgres:\/\//);
      expect(problem, 'the value (it may hold a password) is not repeated').to.not.include(bad);
    }
  });

  it('derives PUBLIC_URL from HOST and PORT, and takes an explicit one without a trailing slash', () => {
    expect(loadConfig({ PORT: '8080', HOST: '::1' }).publicUrl).to.equal('http://[::1]:8080');
    expect(loadConfig({ PUBLIC_URL: 'https://orders.example.com/' }).publicUrl).to.equal('https://orders.example.com');
  });

  it('names every problem at once', () => {
    const bad = () => loadConfig({ PORT: 'eighty', FEED_PAGE_SIZE: '0', PUBLIC_URL: 'ftp://x', API_TOKEN: 'short' });
    expect(bad).to.throw(ConfigError);
    try {
      bad();
    } catch (err) {
      expect((err as ConfigError).problems).to.deep.equal([
        'PORT must be a whole number from 0 to 65535, got "eighty"',
        `FEED_PAGE_SIZE must be a whole number from 1 to 1000, got "0": ${PAGE_SIZE_WHY}`,
        'PUBLIC_URL must be an absolute http(s) URL with no query, got "ftp://x"',
        'API_TOKEN must be at least 16 characters when set',
      ]);
    }
  });

  it('refuses FEED_PAGE_SIZE over 1,000, saying why: bigger pages exceed what a feed consumer accepts', () => {
    expect(loadConfig({ FEED_PAGE_SIZE: '1000' }).feedPageSize).to.equal(1000);
    expect(problemsOf({ FEED_PAGE_SIZE: '5000' })).to.deep.equal([`FEED_PAGE_SIZE must be a whole number from 1 to 1000, got "5000": ${PAGE_SIZE_WHY}`]);
    expect(PAGE_SIZE_WHY).to.include('8 MiB');
  });

  describe('SHIP_TO_COUNTRIES', () => {
    it('defaults to the UK, the 27 EU members, the US and a few more', () => {
      const countries = loadConfig({}).shipToCountries;
      expect(countries).to.include.members(['GB', ...EU_MEMBERS, 'US', 'NO', 'CA', 'AU', 'NZ', 'JP']);
      expect(countries).to.have.length(1 + 27 + 6);
      expect(Object.isFrozen(countries)).to.equal(true);
    });

    it('takes comma-separated codes in any case, once each', () => {
      expect(loadConfig({ SHIP_TO_COUNTRIES: 'gb, FR ,us,GB' }).shipToCountries).to.deep.equal(['GB', 'FR', 'US']);
    });

    it('names every code that is not a country, with the one probably meant', () => {
      expect(problemsOf({ SHIP_TO_COUNTRIES: 'GB,UK,EU,XX,France,EL' })).to.deep.equal([
        'SHIP_TO_COUNTRIES must be ISO 3166-1 alpha-2 country codes separated by commas, such as GB,FR,US; not country codes: "UK" (GB?), "EU", "XX", "France", "EL" (GR?)',
      ]);
      expect(problemsOf({ SHIP_TO_COUNTRIES: ' , ' })).to.deep.equal(['SHIP_TO_COUNTRIES must name at least one country, such as GB']);
    });
  });
});
