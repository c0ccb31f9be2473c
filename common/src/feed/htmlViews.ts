import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { shortHash } from '../http/representation.ts';

const VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url));

/** The HTML pages a browser gets for a feed: rendered with eta, customer text always escaped. */
export class HtmlViews {
  readonly #eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true });
  /** Changes whenever a template changes, so cached HTML is revalidated after an edit. */
  readonly version = shortHash(...readdirSync(VIEWS_DIR).sort().map((f) => readFileSync(`${VIEWS_DIR}${f}`)));

  page(title: string, view: string, data: object, feed?: { url: string; title: string }): string {
    const body = this.#eta.render(view, data);
    return this.#eta.render('layout', { title, body, feedUrl: feed?.url, feedTitle: feed?.title });
  }
}
