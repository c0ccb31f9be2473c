// The shipping command line with DATABASE_URL reads both subscriptions from PostgreSQL (the
// commands themselves are tested on billing, in billing-service/src/cliPg.int.test.ts).
import { expect } from 'chai';
import { createTestDatabase, postgresqlPeer, requirePeer } from '@shop/common/testing';
import { runCli } from './cli.ts';

describe('The shipping command line on PostgreSQL (DATABASE_URL)', function () {
  before(async function () { this.timeout(60_000); await requirePeer(this, postgresqlPeer); });

  it('migrates a new database and prints the positions of both subscriptions, and no parked entries', async () => {
    const env = { DATABASE_URL: await createTestDatabase(), ORDER_FEED_URL: 'http://orders.test/feed', BILLING_FEED_URL: 'http://billing.test/feed' };
    const lines: string[] = [];
    expect(await runCli(['positions'], env, (l) => lines.push(l))).to.equal(0);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^orders +position 0 of 0 seen \(0 behind\), parked 0, last success never +http:\/\/orders\.test\/feed$/);
    expect(lines[1]).to.match(/^billing +position 0 of 0 seen \(0 behind\), parked 0, last success never +http:\/\/billing\.test\/feed$/);
    const parked: string[] = [];
    expect(await runCli(['parked'], env, (l) => parked.push(l))).to.equal(0);
    expect(parked).to.deep.equal(['no parked entries']);
  });
});
