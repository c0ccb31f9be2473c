// The order command line with DATABASE_URL reads the shipping feed subscription from PostgreSQL
// (the commands themselves are tested on billing, in billing-service/src/cliPg.int.test.ts).
import { expect } from 'chai';
import { createTestDatabase, postgresqlPeer, requirePeer } from '@shop/common/testing';
import { runCli } from './cli.ts';

describe('The order command line on PostgreSQL (DATABASE_URL)', function () {
  before(async function () { this.timeout(60_000); await requirePeer(this, postgresqlPeer); });

  it('migrates a new database and prints the position of the shipping feed subscription, and no parked entries', async () => {
    const env = { DATABASE_URL: await createTestDatabase(), SHIPPING_FEED_URL: 'http://shipping.test/feed' };
    const lines: string[] = [];
    expect(await runCli(['positions'], env, (l) => lines.push(l))).to.equal(0);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^shipping position 0 of 0 seen \(0 behind\), parked 0, last success never +http:\/\/shipping\.test\/feed$/);
    const parked: string[] = [];
    expect(await runCli(['parked', 'shipping'], env, (l) => parked.push(l))).to.equal(0);
    expect(parked).to.deep.equal(['no parked entries in shipping']);
  });
});
