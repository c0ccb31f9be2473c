import { isMainThread, type MessagePort, workerData } from 'node:worker_threads';
import type { SampleEmail } from './sampleEmails.ts';
import { checkTemplateSet } from './templateCheck.ts';
import { CompiledTemplateSet, type RenderedParts, type TemplateSet } from './templateSet.ts';

/**
 * The template worker: the only place email templates (Eta, so JavaScript) run. It is started by
 * TemplateSandbox with an empty environment, and answers one request at a time on its port, then
 * counts the answer in the shared `signal` so the service, waiting with Atomics.wait, wakes up.
 */

/** Marks the worker's workerData, so that importing this module anywhere else starts nothing. */
export const TEMPLATE_WORKER = 'atom-shop.templateWorker';

export type TemplateRequest =
  | { readonly id: number; readonly op: 'check'; readonly set: TemplateSet; readonly samples: readonly SampleEmail[] }
  | { readonly id: number; readonly op: 'render'; readonly set: TemplateSet; readonly data: object };

export type TemplateAnswer =
  | { readonly ok: true; readonly samplesRendered: number }
  | { readonly ok: true; readonly parts: RenderedParts }
  | { readonly ok: false; readonly file: string; readonly error: string };

/** The shared Int32Array's slots. */
export const SIGNAL = {
  /** Answers posted so far: the service waits for it to change. */
  answers: 0,
  /** 1 + the index (in the request's set.files) of the file being compiled or rendered; 0: none. */
  file: 1,
  /** 1 once the worker listens. */
  ready: 2,
} as const;

export interface TemplateWorkerData {
  readonly [TEMPLATE_WORKER]: true;
  readonly port: MessagePort;
  readonly signal: Int32Array;
}

/** Compiled sets by name and version (a version names exact contents), the most recent kept. */
const compiled = new Map<string, CompiledTemplateSet>();
let current: { signal: Int32Array; files: readonly string[] } | undefined;

function compiledSet(set: TemplateSet): CompiledTemplateSet {
  const key = `${set.name}@${set.version}`;
  let c = compiled.get(key);
  if (!c) {
    if (compiled.size >= 64) compiled.clear();
    compiled.set(key, c = new CompiledTemplateSet(set, onFile));
  }
  return c;
}

function onFile(file: string): void {
  if (current) Atomics.store(current.signal, SIGNAL.file, current.files.indexOf(file) + 1);
}

function answer(req: TemplateRequest): TemplateAnswer {
  try {
    if (req.op === 'check') {
      const check = checkTemplateSet(req.set, req.samples, onFile);
      return check.ok ? { ok: true, samplesRendered: check.samplesRendered } : { ok: false, file: check.file, error: check.error };
    }
    return { ok: true, parts: compiledSet(req.set).render(req.data) };
  } catch (err) {
    // TemplateProblems are answered above or carry their file; anything else is the set's.
    const file = (err as { file?: unknown }).file;
    return { ok: false, file: typeof file === 'string' ? file : `${req.set.name}.html`, error: err instanceof Error ? err.message : String(err) };
  }
}

function serve({ port, signal }: TemplateWorkerData): void {
  // A template's console.log must not reach the service's log lines.
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const) console[method] = () => undefined;
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  port.on('message', (req: TemplateRequest) => {
    current = { signal, files: Object.keys(req.set.files) };
    Atomics.store(signal, SIGNAL.file, 0);
    const result = answer(req);
    current = undefined;
    port.postMessage({ id: req.id, result });
    Atomics.add(signal, SIGNAL.answers, 1);
    Atomics.notify(signal, SIGNAL.answers);
  });
  Atomics.store(signal, SIGNAL.ready, 1);
  Atomics.notify(signal, SIGNAL.ready);
}

const data = workerData as Partial<TemplateWorkerData> | undefined;
if (!isMainThread && data?.[TEMPLATE_WORKER]) serve(data as TemplateWorkerData);
