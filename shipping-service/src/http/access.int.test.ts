import { describeAccessControl, tempDir } from '@shop/common/testing';
import { startShippingService } from '../testing/startShippingService.ts';

describeAccessControl({
  service: 'shipping-service',
  start: async (env) => {
    const dir = tempDir();
    const svc = await startShippingService(dir.path, env);
    return { url: svc.url, close: async () => { await svc.close(); dir.remove(); } };
  },
  feeds: { name: 'shipping', paths: ['/', '/feed', '/service', '/auth/feed'] },
  pages: ['/status', '/metrics'],
  writes: [{ path: '/shipments/ORD-NOPE' }, { method: 'POST', path: '/shipments/ORD-NOPE/dispatch', body: {} }],
  open: ['/healthz', '/readyz'],
  // Download links are the customer's: they carry their own credential.
  ownProtection: ['/downloads/not-a-real-token'],
});
