import { createBaseApp, createOperations, createServiceAccess, type Logger } from '@shop/common';
import type Koa from 'koa';
import { statusRoutes } from './http/statusRoutes.ts';
import { templateRoutes } from './http/templateRoutes.ts';
import { registerOutboxMetrics } from './mail/outboxMetrics.ts';
import type { NotificationView } from './notificationView.ts';

/** What needs no operator login: liveness, readiness and the view links customers get by email. */
const OPEN_PATHS = /^\/(healthz|readyz|view\/.*)$/;

/** The HTTP face of the service: status, the emails it sent, metrics and health. Builds, never listens. */
export function createApp(deps: { service: NotificationView; logger: Logger; mailFrom: string }): Koa {
  const ops = createOperations({ health: deps.service.health, consumers: deps.service.consumers });
  registerOutboxMetrics(ops.metrics, () => deps.service.outboxStates());
  deps.service.registerMetrics?.(ops.metrics);
  const app = createBaseApp(deps.logger, { onRequest: ops.metrics.observeRequest });
  // Every page here shows customers' emails or operations: all need an operator's login (when
  // OPERATORS is set), new ones too, except the health checks and the emails' own view links
  // (/view/..., which carry their own token).
  const access = createServiceAccess(deps.service.config.access, { service: 'notification-service', logger: deps.logger });
  deps.service.health.whenClosing(() => access.close());
  app.use((ctx, next) => (OPEN_PATHS.test(ctx.path) ? next() : access.operator(ctx, next)));
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const router = statusRoutes(deps.service, { mailFrom: deps.mailFrom });
  app.use(router.routes()).use(router.allowedMethods());
  const templates = templateRoutes(deps.service);
  app.use(templates.routes()).use(templates.allowedMethods());
  return app;
}
