import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { SampleEmail } from './sampleEmails.ts';
import { type RenderedParts, TemplateProblem, type TemplateSet } from './templateSet.ts';
import { SIGNAL, TEMPLATE_WORKER, type TemplateAnswer, type TemplateRequest, type TemplateWorkerData } from './templateWorker.ts';

/** How long a worker may take to start (it loads Eta, and under tsx compiles its modules). */
const BOOT_LIMIT_MS = 20_000;
/** After a worker could not start, calls fail at once for this long rather than each waiting to start one. */
const BOOT_RETRY_MS = 60_000;

export type CheckAnswer = { readonly ok: true; readonly samplesRendered: number } | { readonly ok: false; readonly file: string; readonly error: string };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Running { readonly worker: Worker; readonly port: MessagePort; readonly signal: Int32Array; ready: boolean }

/**
 * Runs email templates (Eta: JavaScript that marketing writes) in a worker thread, never in the
 * service's own: the worker's `process.env` is empty, so no secret of the service's environment
 * is within a template's reach, and every call has a time limit, after which the worker is
 * stopped (a new one starts) and the call fails like a broken template, naming the file it was in.
 *
 * Calls are synchronous (the caller waits with Atomics.wait, up to the limit): an email is
 * rendered inside the feed handler's transaction, so that the outbox row commits with the decision.
 * One worker per role, started ahead and shared by every library in the process: `checks` for
 * checking changed files and rendering pages, `sends` for the emails, so a template that hangs
 * while being checked never delays an email.
 */
export class TemplateSandbox {
  static readonly checks = new TemplateSandbox();
  static readonly sends = new TemplateSandbox();

  #running: Running | undefined;
  #bootFailedAt = 0;
  #nextId = 0;

  /** Starts the worker now, without waiting for it, so that the first call does not wait as long. */
  warmUp(): this {
    if (!this.#running && Date.now() - this.#bootFailedAt >= BOOT_RETRY_MS) this.#running = this.#spawn();
    return this;
  }

  /** Checks a set with its samples (see checkTemplateSet), within `limitMs`. */
  check(set: TemplateSet, samples: readonly SampleEmail[], limitMs: number): CheckAnswer {
    const answer = this.#call({ op: 'check', set, samples }, set, limitMs);
    return 'parts' in answer ? { ok: false, file: `${set.name}.html`, error: 'the template worker answered a check with a rendering' } : answer;
  }

  /** Renders a set, within `limitMs`; throws a TemplateProblem when it fails or does not finish. */
  render(set: TemplateSet, data: object, limitMs: number): RenderedParts {
    const answer = this.#call({ op: 'render', set, data }, set, limitMs);
    if (!answer.ok) throw new TemplateProblem(answer.file, answer.error);
    if (!('parts' in answer)) throw new TemplateProblem(`${set.name}.html`, 'the template worker answered a rendering with a check');
    return answer.parts;
  }

  /** Stops the worker (a later call starts another). */
  close(): void {
    const r = this.#running;
    this.#running = undefined;
    if (r) void r.worker.terminate();
  }

  #call(request: WithoutId<TemplateRequest>, set: TemplateSet, limitMs: number): TemplateAnswer {
    let r: Running;
    try {
      r = this.#worker();
    } catch (err) {
      return { ok: false, file: `${set.name}.html`, error: `the template worker could not start: ${(err as Error).message}` };
    }
    const id = ++this.#nextId;
    r.port.postMessage({ ...request, id });
    const deadline = Date.now() + limitMs;
    for (;;) {
      // Read the count before looking at the port: an answer posted after the look changes it.
      const answers = Atomics.load(r.signal, SIGNAL.answers);
      for (let m = receiveMessageOnPort(r.port); m; m = receiveMessageOnPort(r.port)) {
        const { id: answered, result } = m.message as { id: number; result: TemplateAnswer };
        if (answered === id) return result;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(r.signal, SIGNAL.answers, answers, left);
    }
    const at = Atomics.load(r.signal, SIGNAL.file);
    const file = Object.keys(set.files)[at - 1] ?? `${set.name}.html`;
    this.close();
    this.warmUp();
    const seconds = limitMs % 1000 === 0 ? `${limitMs / 1000} s` : `${limitMs} ms`;
    return { ok: false, file, error: `${file} (or a file it uses) did not finish within ${seconds} and was stopped: a loop that never ends?` };
  }

  /** The worker, started and ready; throws when it cannot start. */
  #worker(): Running {
    if (this.#running?.ready) return this.#running;
    if (!this.#running && Date.now() - this.#bootFailedAt < BOOT_RETRY_MS) throw new Error('it failed to start less than a minute ago');
    const r = this.#running ??= this.#spawn();
    if (Atomics.wait(r.signal, SIGNAL.ready, 0, BOOT_LIMIT_MS) === 'timed-out') {
      this.close();
      this.#bootFailedAt = Date.now();
      throw new Error(`not ready within ${BOOT_LIMIT_MS / 1000} s`);
    }
    r.ready = true;
    return r;
  }

  #spawn(): Running {
    const signal = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    const { port1, port2 } = new MessageChannel();
    const data: TemplateWorkerData = { [TEMPLATE_WORKER]: true, port: port2, signal };
    const worker = new Worker(workerEntry(), {
      // Nothing of the service's environment (SMTP_URL, VIEW_LINK_SECRET, tokens...) goes in.
      env: {},
      workerData: data,
      transferList: [port2],
      // A template that builds a huge string ends its worker, not the service.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: true,
      stderr: true,
    });
    // Neither the worker nor its port keeps the process alive. (Its stdout and stderr are never
    // read: the worker prints nothing, and what a template might print goes nowhere.)
    worker.on('error', () => { if (this.#running?.worker === worker) this.#running = undefined; });
    worker.on('exit', () => { if (this.#running?.worker === worker) this.#running = undefined; });
    worker.unref();
    port1.unref();
    return { worker, port: port1, signal, ready: false };
  }
}

/**
 * The worker's module. Compiled, it is templateWorker.js beside this file; under tsx (tests, npm
 * start) a worker does not get tsx's loader (it registers in the main thread only), so a small
 * module registers it first.
 */
function workerEntry(): URL {
  const ext = extname(fileURLToPath(import.meta.url));
  const worker = new URL(`./templateWorker${ext}`, import.meta.url);
  if (ext !== '.ts') return worker;
  // tsx's own ESM entry for register(), found through its exports (import.meta.resolve is missing
  // where mocha has tsx load this module as CommonJS, and require.resolve picks the CommonJS one).
  const pkgFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const tsx = new URL(pkg.exports['./esm/api']!.import.default, pathToFileURL(pkgFile)).href;
  return new URL(`data:text/javascript,${encodeURIComponent(`import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(worker.href)});`)}`);
}
