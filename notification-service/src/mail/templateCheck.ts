import type { SampleEmail } from './sampleEmails.ts';
import { CompiledTemplateSet, type OnFile, partFile, type Part, type RenderedParts, TemplateProblem, type TemplateSet } from './templateSet.ts';

export type TemplateCheck =
  | { readonly ok: true; readonly compiled: CompiledTemplateSet; readonly samplesRendered: number }
  | { readonly ok: false; readonly file: string; readonly error: string };

/** Words a template prints when it names a value that does not exist (`it.custmerName`). */
const NON_VALUES = ['undefined', 'null', 'NaN', '[object Object]'];

/**
 * Decides whether a set may be used: every file compiles, and every sample email renders without
 * an error, with a subject, a body in both forms, the order id in all three (customers quote it)
 * and no value printed that does not exist. The first problem found is the answer.
 */
export function checkTemplateSet(set: TemplateSet, samples: readonly SampleEmail[], onFile?: OnFile): TemplateCheck {
  const compiled = new CompiledTemplateSet(set, onFile);
  try {
    for (const part of ['subject', 'html', 'text'] as const) {
      const file = partFile(set.name, part);
      if (set.files[file] === undefined) throw new TemplateProblem(file, `${file} is missing: every email needs ${part === 'subject' ? 'a subject line' : `an ${part} body`}`);
    }
    compiled.compileAll();
    for (const sample of samples) checkRendered(set.name, sample, compiled.render(sample.data));
  } catch (err) {
    if (err instanceof TemplateProblem) return { ok: false, file: err.file, error: err.message };
    throw err;
  }
  return { ok: true, compiled, samplesRendered: samples.length };
}

function checkRendered(name: string, sample: SampleEmail, parts: RenderedParts): void {
  const problem = (part: Part, what: string): TemplateProblem =>
    new TemplateProblem(partFile(name, part), `${partFile(name, part)} ${what} (sample order ${sample.orderId})`);
  if (parts.subject === '') throw problem('subject', 'renders an empty subject line');
  const input = JSON.stringify(sample.data);
  for (const part of ['subject', 'html', 'text'] as const) {
    const out = part === 'html' ? visibleText(parts.html) : parts[part];
    if (out.trim() === '') throw problem(part, 'renders nothing');
    if (!parts[part].includes(sample.data.orderId)) throw problem(part, 'does not show the order id (it.orderId): customers quote it');
    for (const word of NON_VALUES) {
      const printed = new RegExp(`(^|[^\\w.])${escapeRegExp(word)}($|[^\\w])`).test(out);
      if (printed && !input.includes(word)) {
        throw problem(part, `prints "${word}": it names a value that does not exist (check the spelling after "it.", and which values templates/README.md lists)`);
      }
    }
  }
}

/** The HTML without its tags and scripts: what a reader sees, where a stray "undefined" would show. */
function visibleText(html: string): string {
  return html.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
