import { createBaseApp, type Logger } from '@shop/common';
import type Koa from 'koa';
import { statusRoutes } from './http/statusRoutes.ts';
import type { NotificationService } from './notificationService.ts';

/** The HTTP face of the service: status and the emails it sent. Builds, never listens. */
export function createApp(deps: { service: NotificationService; logger: Logger; mailFrom: string }): Koa {
  const app = createBaseApp(deps.logger);
  const router = statusRoutes(deps.service, { mailFrom: deps.mailFrom });
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
