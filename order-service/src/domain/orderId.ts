/** Crockford base32: no I, L, O or U, so an id read aloud over the phone is unambiguous. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Turns 10 random bytes into a customer-quotable order id such as `ORD-7K3M9-Q2XHD`. */
export function orderIdFrom(randomBytes: Uint8Array): string {
  let chars = '';
  for (let i = 0; i < 10; i += 1) chars += ALPHABET[(randomBytes[i] ?? 0) % 32];
  return `ORD-${chars.slice(0, 5)}-${chars.slice(5)}`;
}
