import { escapeAttr, escapeText } from './escape.ts';

/**
 * A fragment of well-formed XHTML. Only `html` and `raw` make one, so a plain string
 * (anything a customer typed) can never end up in markup unescaped.
 */
export class Xhtml {
  readonly #markup: string;
  private constructor(markup: string) { this.#markup = markup; }
  /** Wraps markup that is already well-formed XHTML (for trusted, pre-rendered sections). */
  static trusted(markup: string): Xhtml { return new Xhtml(markup); }
  toString(): string { return this.#markup; }
}

export type XhtmlChild = Xhtml | string | number | null | undefined | false | readonly XhtmlChild[];

type Attrs = Record<string, string | number | undefined | null | false>;

const VOID = new Set(['br', 'hr', 'img', 'col']);

/** Builds one element; text children and attribute values are escaped. */
export function el(tag: string, attrs: Attrs | null, ...children: XhtmlChild[]): Xhtml {
  let open = `<${tag}`;
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    open += ` ${name}="${escapeAttr(String(value))}"`;
  }
  const inner = children.map(render).join('');
  if (inner === '' && VOID.has(tag)) return Xhtml.trusted(`${open}/>`);
  return Xhtml.trusted(`${open}>${inner}</${tag}>`);
}

/** Joins fragments and text into one fragment. */
export function fragment(...children: XhtmlChild[]): Xhtml {
  return Xhtml.trusted(children.map(render).join(''));
}

function render(child: XhtmlChild): string {
  if (child === null || child === undefined || child === false) return '';
  if (child instanceof Xhtml) return child.toString();
  if (Array.isArray(child)) return child.map(render).join('');
  return escapeText(String(child));
}
