import { expect } from 'chai';
import { call, callChunked, expectProblem, tempDir } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../testing/startOrderService.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('The order service on errors and request ids', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let svc: RunningOrderService;
  beforeEach(async () => { svc = await startOrderService(`${dir.path}/${Math.random()}`); });
  afterEach(async () => svc.close());
  after(() => dir.remove());

  it('answers a method a resource does not have with 405 problem+json and an Allow header', async () => {
    for (const [method, path, allow] of [['DELETE', '/feed', /^HEAD, GET$/], ['PUT', '/orders', /^POST$/], ['POST', '/feed/archive/1', /GET/]] as const) {
      const r = await call(method, `${svc.url}${path}`, method === 'PUT' ? adaOrder : undefined);
      expectProblem(r, 405, /allowed: /);
      expect(r.headers['allow'], `${method} ${path}`).to.match(allow);
      expect(r.json()).to.include({ type: 'about:blank', title: 'Method not allowed', status: 405, instance: path });
    }
    expect(svc.feed.head().lastPosition, 'nothing was written').to.equal(0);
  });

  it('answers an unknown path with 404 problem+json', async () => {
    expectProblem(await call('GET', `${svc.url}/nothing/here`), 404, /No resource at \/nothing\/here/);
  });

  it('answers a chunked POST /orders over the limit with 413 problem+json, received by the client', async () => {
    const name = 'x'.repeat(8 * 1024);
    const body = JSON.stringify({ ...adaOrder, customer: { name: Array(10).fill(name).join(''), email: 'a@b.c' } });
    const chunks = body.match(/[^]{1,4096}/g)!;
    const r = await callChunked('POST', `${svc.url}/orders`, chunks);
    expectProblem(r, 413, /at most 65536 bytes/);
    expect(svc.feed.head().lastPosition).to.equal(0);
    // A chunked order within the limit is still taken.
    const ok = await callChunked('POST', `${svc.url}/orders`, JSON.stringify(adaOrder).match(/[^]{1,100}/g)!);
    expect(ok.status).to.equal(201);
  });

  it('echoes X-Request-Id, or makes one, on a 200, a 404, an error and a fast-path 304', async () => {
    const feed = await call('GET', `${svc.url}/feed`, undefined, { 'x-request-id': 'ops-1' });
    expect([feed.status, feed.headers['x-request-id']]).to.deep.equal([200, 'ops-1']);
    const etag = feed.headers['etag']!;
    for (const [method, path, status, headers] of [
      ['GET', '/orders/ORD-NOPE', 404, {}],
      ['DELETE', '/feed', 405, {}],
      ['GET', '/feed', 304, { 'if-none-match': etag }],
    ] as const) {
      const given = await call(method, `${svc.url}${path}`, undefined, { ...headers, 'x-request-id': 'ops-2' });
      expect([given.status, given.headers['x-request-id']], `${method} ${path}`).to.deep.equal([status, 'ops-2']);
      const made = await call(method, `${svc.url}${path}`, undefined, { ...headers, 'x-request-id': `bad id ${'!'.repeat(300)}` });
      expect(made.status).to.equal(status);
      expect(made.headers['x-request-id'], `${method} ${path}`).to.match(UUID);
    }
  });
});
