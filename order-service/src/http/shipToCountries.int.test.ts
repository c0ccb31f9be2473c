import { expect } from 'chai';
import { call, expectProblem, tempDir } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../testing/startOrderService.ts';

const to = (country: string) => ({ ...adaOrder, shippingAddress: { ...adaOrder.shippingAddress, country } });

describe('POST /orders to a country the shop does not ship to', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let svc: RunningOrderService | undefined;
  afterEach(async () => { await svc?.close(); svc = undefined; });
  after(() => dir.remove());

  it('answers 422 naming the country and SHIP_TO_COUNTRIES, and publishes nothing', async () => {
    svc = await startOrderService(`${dir.path}/default`);
    const r = await call('POST', `${svc.url}/orders`, to('BR'), { 'idempotency-key': 'to-brazil' });
    expectProblem(r, 422, /^The shop does not ship to Brazil \(BR\): it is not in SHIP_TO_COUNTRIES$/);
    expect(r.json()['errors']).to.deep.equal([{ pointer: '/shippingAddress/country', detail: 'the shop does not ship to Brazil (BR): it is not in SHIP_TO_COUNTRIES' }]);
    expect(svc.feed.head().lastPosition).to.equal(0);
    for (const country of ['PL', 'DK', 'US']) expect((await call('POST', `${svc.url}/orders`, to(country))).status, country).to.equal(201);
  });

  it('follows the setting: with SHIP_TO_COUNTRIES=GB an order to Poland is refused', async () => {
    svc = await startOrderService(`${dir.path}/gb-only`, { SHIP_TO_COUNTRIES: 'GB' });
    expectProblem(await call('POST', `${svc.url}/orders`, to('PL')), 422, /does not ship to Poland \(PL\)/);
    expect((await call('POST', `${svc.url}/orders`, adaOrder)).status).to.equal(201);
  });
});
