import { describeAccessControl, tempDir } from '@shop/common/testing';
import { startBillingService } from '../testing/startBillingService.ts';

describeAccessControl({
  service: 'billing-service',
  start: async (env) => {
    const dir = tempDir();
    const svc = await startBillingService(dir.path, env);
    return { url: svc.url, close: async () => { await svc.close(); dir.remove(); } };
  },
  feeds: { name: 'billing', paths: ['/', '/feed', '/service', '/auth/feed'] },
  pages: ['/status', '/metrics'],
  writes: [{ method: 'POST', path: '/payments', body: {} }, { path: '/payments/PAY-NOPE' }, { path: '/invoices/ORD-NOPE' }],
  open: ['/healthz', '/readyz'],
});
