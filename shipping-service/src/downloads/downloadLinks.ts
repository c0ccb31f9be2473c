import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CivilDate } from '../domain/calendar.ts';
import { downloadExpired } from '../domain/downloadExpiry.ts';

/** What a download link names, as it came in (query parameters may be missing or repeated). */
export interface DownloadLinkParts {
  readonly orderId: string;
  readonly sku: string;
  readonly expires: unknown;
  readonly sig: unknown;
}

export type DownloadLinkCheck =
  | { readonly ok: true; readonly orderId: string; readonly sku: string; readonly lastDay: CivilDate }
  /** Not a link we made: a wrong or missing signature, or an order, item or date changed since. */
  | { readonly ok: false; readonly reason: 'invalid' }
  /** A link we made, whose last day is over on the shop's calendar. */
  | { readonly ok: false; readonly reason: 'expired'; readonly orderId: string; readonly sku: string; readonly lastDay: CivilDate };

/** Makes download links; `feed/toFeedEntry.ts` needs only this. */
export interface DownloadLinkSigner {
  /** The public URL of the download of `sku` in `orderId`, working through `lastDay` (the shop's calendar). */
  url(orderId: string, sku: string, lastDay: CivilDate): string;
}

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * Signed download links: `<PUBLIC_URL>/downloads/<order id>/<sku>?expires=<last day>&sig=<hmac>`.
 * `expires` is the last day the link works (YYYY-MM-DD, the day the email promises, on the shop's
 * calendar); `sig` is HMAC-SHA256, base64url, under DOWNLOAD_LINK_SECRET, of the order id, the
 * sku and that day. The link is its own credential: checking it needs the secret and the clock,
 * no table; changing any of the three, or the signature, makes it worthless.
 */
export class DownloadLinks implements DownloadLinkSigner {
  readonly #baseUrl: string;
  readonly #secret: string;
  readonly #shopTimeZone: string;

  constructor(baseUrl: string, secret: string, shopTimeZone: string) {
    this.#baseUrl = baseUrl;
    this.#secret = secret;
    this.#shopTimeZone = shopTimeZone;
  }

  url(orderId: string, sku: string, lastDay: CivilDate): string {
    return `${this.#baseUrl}${this.path(orderId, sku, lastDay)}`;
  }

  path(orderId: string, sku: string, lastDay: CivilDate): string {
    if (!DATE.test(lastDay)) throw new RangeError(`not a calendar date (YYYY-MM-DD): ${lastDay}`);
    return `/downloads/${encodeURIComponent(orderId)}/${encodeURIComponent(sku)}?expires=${lastDay}&sig=${this.#sign(orderId, sku, lastDay)}`;
  }

  /**
   * Checks a link at `now`: the signature first (in constant time), so an altered link says
   * nothing, not even whether the date it names is over; then the day.
   */
  verify(link: DownloadLinkParts, now: Date): DownloadLinkCheck {
    const { orderId, sku, expires, sig } = link;
    if (typeof expires !== 'string' || typeof sig !== 'string' || !DATE.test(expires)) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.#sign(orderId, sku, expires));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    if (downloadExpired(expires, now, this.#shopTimeZone)) return { ok: false, reason: 'expired', orderId, sku, lastDay: expires };
    return { ok: true, orderId, sku, lastDay: expires };
  }

  #sign(orderId: string, sku: string, lastDay: CivilDate): string {
    // JSON keeps the fields apart whatever they contain: ("A", "B/C") never signs as ("A/B", "C").
    return createHmac('sha256', this.#secret).update(JSON.stringify(['shop-download/1', orderId, sku, lastDay])).digest('base64url');
  }
}
