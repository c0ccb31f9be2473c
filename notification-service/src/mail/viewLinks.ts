import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The "view in your browser" links: `<PUBLIC_URL>/view/<email key>?t=<token>`. The key names the
 * order and the kind of email (`order-<order id>-confirmation`, as in the outbox and the
 * Message-ID); the token is an HMAC-SHA256 of it under the service's secret. Only who got the
 * email has the link; without the secret nobody can make one for another order or kind.
 */
export class ViewLinks {
  constructor(private readonly publicUrl: string, private readonly secret: string) {}

  token(key: string): string {
    return createHmac('sha256', this.secret).update(`view-email\n${key}`).digest('base64url');
  }

  urlFor(key: string): string {
    return `${this.publicUrl}/view/${encodeURIComponent(key)}?t=${this.token(key)}`;
  }

  /** Whether `token` is the link's; compared in constant time, so timing tells nothing of the right one. */
  verify(key: string, token: string | undefined): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.token(key));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
