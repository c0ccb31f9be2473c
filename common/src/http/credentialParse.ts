/** One named secret, as configured. */
export interface Credential {
  readonly name: string;
  readonly secret: string;
  readonly cache?: boolean;
}

export const MIN_SECRET_LENGTH = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export type CredentialParse =
  | { readonly ok: true; readonly credentials: readonly Credential[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Parses `name:secret` items: comma-separated (`form: 'list'`, an environment variable) or one
 * per line (`form: 'lines'`, a file; blank lines and lines starting with `#` are skipped). Names
 * are letters, digits, `.`, `_`, `@`, `-` (at most 64), each used once; secrets are at least 16
 * characters, without spaces, and each used once. Problems name the item by its position and
 * name, never by its secret.
 */
export function parseCredentials(text: string, form: 'list' | 'lines', source: string): CredentialParse {
  const items = form === 'list'
    ? text.split(',').map((s, i) => ({ at: `item ${i + 1}`, text: s.trim() })).filter((x) => x.text !== '')
    : text.split(/\r?\n/).map((s, i) => ({ at: `line ${i + 1}`, text: s.trim() })).filter((x) => x.text !== '' && !x.text.startsWith('#'));
  const problems: string[] = [];
  const credentials: Credential[] = [];
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const { at, text: item } of items) {
    const colon = item.indexOf(':');
    if (colon < 0) {
      problems.push(`${source}: ${at} is not name:secret`);
      continue;
    }
    const name = item.slice(0, colon).trim();
    const secret = item.slice(colon + 1).trim();
    if (!NAME.test(name)) problems.push(`${source}: ${at} has a bad name (letters, digits, . _ @ - only, at most 64)`);
    else if (names.has(name)) problems.push(`${source}: ${at} repeats the name "${name}"`);
    else if (secret.length < MIN_SECRET_LENGTH || /\s/.test(secret)) problems.push(`${source}: the secret of "${name}" must be at least ${MIN_SECRET_LENGTH} characters, without spaces`);
    else if (secrets.has(secret)) problems.push(`${source}: the secret of "${name}" is also another name's secret`);
    else {
      names.add(name);
      secrets.add(secret);
      credentials.push({ name, secret });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, credentials };
}

