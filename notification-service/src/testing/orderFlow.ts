import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ShopFeeds } from './shopFeeds.ts';

/**
 * Orders appended to the shop feeds at a steady pace until stopped, as customers would place
 * them: one every `everyMs`; every 5th placed and never paid (it must get no email); the others
 * placed, paid and scheduled at once, and every 3rd of those dispatched `dispatchAfterMs` later.
 */
export class OrderFlow {
  /** When each order was placed (performance.now()). */
  readonly placedAt = new Map<string, number>();
  readonly paid: string[] = [];
  readonly unpaid: string[] = [];
  readonly dispatched: string[] = [];
  readonly #toDispatch: { id: string; due: number }[] = [];
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(private readonly feeds: ShopFeeds, private readonly ids: readonly string[], private readonly o: { everyMs: number; dispatchAfterMs: number }) {}

  /** True when it placed every id before being stopped (the flow ended early). */
  get ranOut(): boolean { return this.placedAt.size === this.ids.length; }

  start(): void { this.#running ??= this.#run(); }

  /** Places no more orders, dispatches the ones still due a dispatch, and resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    for (const d of this.#toDispatch.splice(0)) this.#dispatch(d.id);
  }

  /** The Message-IDs the orders so far must get, each once: a confirmation per paid order, a dispatch notice per dispatched one. */
  expectedMessageIds(domain = 'shop.example'): string[] {
    return [...this.paid.map((id) => `<order-${id}-confirmation@${domain}>`), ...this.dispatched.map((id) => `<order-${id}-dispatched@${domain}>`)];
  }

  async #run(): Promise<void> {
    for (const [i, id] of this.ids.entries()) {
      if (this.#stopped) return;
      this.placedAt.set(id, performance.now());
      this.feeds.place(id);
      if ((i + 1) % 5 === 0) this.unpaid.push(id);
      else {
        this.feeds.pay(id);
        this.feeds.schedule(id);
        this.paid.push(id);
        if (this.paid.length % 3 === 0) this.#toDispatch.push({ id, due: performance.now() + this.o.dispatchAfterMs });
      }
      while (this.#toDispatch[0] && this.#toDispatch[0].due <= performance.now()) this.#dispatch(this.#toDispatch.shift()!.id);
      await sleep(this.o.everyMs);
    }
  }

  #dispatch(id: string): void {
    this.feeds.dispatch(id);
    this.dispatched.push(id);
  }
}
