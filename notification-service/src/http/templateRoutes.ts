import Router from '@koa/router';
import { notFound } from '@shop/common';
import { Eta } from 'eta';
import type { Context } from 'koa';
import type { TemplateData } from '../mail/emailRenderer.ts';
import type { NotificationView } from '../notificationView.ts';
import { wantsHtml } from './statusRoutes.ts';

const views = new Eta({ views: new URL('./views', import.meta.url).pathname, autoEscape: true, cache: true });

/** One sample email rendered with the version in use, or why it could not be. */
function renderSample(service: NotificationView, name: string, data: TemplateData) {
  const set = service.templates.inUse(name);
  if (!set) return { error: `no ${name} templates have passed their check yet` };
  try {
    return { ...service.templates.renderPage(set, data), error: null };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** What GET /templates shows: every kind of email, the version in use, the files on disk, the samples rendered. */
export function templatesOf(service: NotificationView) {
  // Looks at the files now too, so the page is current even before the watcher's pause is over.
  service.templates.refresh();
  return service.templates.status().map((t) => ({
    ...t,
    samples: service.templates.samplesOf(t.name).map((s, i) => ({
      orderId: s.orderId, label: s.label, href: `/templates/${t.name}/${i}`, textHref: `/templates/${t.name}/${i}/text`,
      ...renderSample(service, t.name, s.data),
    })),
  }));
}

/**
 * GET /templates: every email template rendered with the sample orders, as the service would
 * send it now (the version in use), with the error when the files on disk are broken; and the
 * customers' "view in your browser" pages, GET /view/{key}?t={token}.
 */
export function templateRoutes(service: NotificationView): Router {
  const router = new Router();
  router.get('/templates', (ctx) => {
    const templates = templatesOf(service);
    ctx.set('Cache-Control', 'no-store');
    if (wantsHtml(ctx)) html(ctx, views.render('templates.eta', { title: 'Email templates', dir: service.config.templatesDir, templates }));
    else ctx.body = { dir: service.config.templatesDir, templates };
  });
  router.get('/templates/:name/:n', (ctx) => { html(ctx, sample(ctx).html); });
  router.get('/templates/:name/:n/text', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/plain; charset=utf-8';
    const s = sample(ctx);
    ctx.body = `Subject: ${s.subject}\n\n${s.text}`;
  });

  router.get('/view/:key', async (ctx) => {
    const key = String(ctx.params['key']);
    const token = typeof ctx.query['t'] === 'string' ? ctx.query['t'] : undefined;
    // Checked before anything is looked up, so a wrong token cannot tell which orders exist.
    const email = service.viewLinks.verify(key, token) ? await service.emailByKey(key) : undefined;
    ctx.set('Cache-Control', 'private, no-store');
    // The token is in the URL: links on the page must not carry it away in a Referer.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Robots-Tag', 'noindex');
    if (!email) {
      if (ctx.accepts('text/html', 'application/json') !== 'text/html') throw notFound('This link is not valid: it may be mistyped or incomplete.');
      ctx.status = 404;
      html(ctx, views.render('viewNotFound.eta', {}));
      return;
    }
    html(ctx, viewPage(service, email.kind, email.templateData ?? null) ?? email.html);
  });
  return router;

  function sample(ctx: Context) {
    const name = String(ctx.params['name']);
    const s = service.templates.samplesOf(name)[Number(ctx.params['n'])];
    if (!s) throw notFound(`There is no sample ${ctx.params['n']} of the ${name} templates`);
    const r = renderSample(service, name, s.data);
    if (r.error !== null) throw notFound(r.error);
    return r;
  }
}

/**
 * The email composed again from the sections it was made of, with the templates in use now (so
 * a fix marketing made since shows), without the link to itself; undefined when that fails, and
 * the email is then shown as it was sent.
 */
function viewPage(service: NotificationView, kind: string, templateData: string | null): string | undefined {
  if (templateData === null) return undefined;
  const set = service.templates.inUse(kind);
  if (!set) return undefined;
  try {
    return service.templates.renderPage(set, { ...(JSON.parse(templateData) as TemplateData), viewUrl: null }).html;
  } catch {
    return undefined;
  }
}

function html(ctx: Context, body: string): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}

/** What GET /status shows of the templates: per kind the version in use and why the files on disk are not, if they are not. */
export function templateStatusOf(service: NotificationView) {
  service.templates.refresh();
  const sets = service.templates.status();
  const renderFailures = service.templates.renderFailures();
  return {
    ok: sets.every((t) => t.inUse !== null && t.onDisk.error === null) && renderFailures.length === 0,
    sets: sets.map(({ samples: _s, ...t }) => t),
    renderFailures,
  };
}
