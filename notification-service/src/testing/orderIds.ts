import { createHash } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * `count` order ids shaped like the order service's (`ORD-7K3M9-Q2XHD`, Crockford base32 from 10
 * bytes), from a seed rather than randomness so a test sees the same ids on every run.
 */
export function sampleOrderIds(count: number, seed = 'orders'): string[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = createHash('sha256').update(`${seed}-${i}`).digest();
    let chars = '';
    for (let b = 0; b < 10; b++) chars += ALPHABET[bytes[b]! % 32];
    return `ORD-${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}
