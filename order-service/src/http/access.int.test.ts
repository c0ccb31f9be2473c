import { describeAccessControl, tempDir } from '@shop/common/testing';
import { startOrderService } from '../testing/startOrderService.ts';

describeAccessControl({
  service: 'order-service',
  start: async (env) => {
    const dir = tempDir();
    const svc = await startOrderService(dir.path, env);
    return { url: svc.url, close: async () => { await svc.close(); dir.remove(); } };
  },
  feeds: { name: 'orders', paths: ['/', '/feed', '/feed/archive/1', '/service', '/auth/feed'] },
  pages: ['/status', '/metrics'],
  writes: [{ method: 'POST', path: '/orders', body: {} }, { path: '/orders/ORD-NOPE' }, { method: 'POST', path: '/orders/ORD-NOPE/cancel', body: {} }],
  open: ['/healthz', '/readyz'],
});
