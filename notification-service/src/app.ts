import { createBaseApp, createOperations, type Logger } from '@shop/common';
import type Koa from 'koa';
import { statusRoutes } from './http/statusRoutes.ts';
import { registerOutboxMetrics } from './mail/outboxMetrics.ts';
import type { NotificationService } from './notificationService.ts';

/** The HTTP face of the service: status, the emails it sent, metrics and health. Builds, never listens. */
export function createApp(deps: { service: NotificationService; logger: Logger; mailFrom: string }): Koa {
  const ops = createOperations({ health: deps.service.health, consumers: deps.service.consumers });
  registerOutboxMetrics(ops.metrics, deps.service.store);
  const app = createBaseApp(deps.logger, { onRequest: ops.metrics.observeRequest });
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const router = statusRoutes(deps.service, { mailFrom: deps.mailFrom });
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
