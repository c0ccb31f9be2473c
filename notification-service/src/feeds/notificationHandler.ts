import type { ConsumedEntry, Logger } from '@shop/common';
import { factFrom } from '../domain/facts.ts';
import { type Decision, decide, evolve, type PolicyConfig } from '../domain/policy.ts';
import { ownsOrder, type Shard } from '../domain/shard.ts';
import type { NotificationStore } from '../db/notificationStore.ts';
import { composeEmails, logDecision } from './composeEmails.ts';
import type { EmailRenderer } from '../mail/emailRenderer.ts';
import type { ViewLinks } from '../mail/viewLinks.ts';

/**
 * Applies feed entries to the per-order policy and queues the emails it decides on. Everything
 * here is synchronous and runs inside the consumer's transaction, so the state, the outbox row
 * and the read position commit together.
 */
export class NotificationHandler {
  #otherShards = 0;

  constructor(
    private readonly store: NotificationStore,
    private readonly renderer: EmailRenderer,
    private readonly o: PolicyConfig & { readonly shard: Shard; readonly messageIdDomain: string; readonly logger: Logger; readonly now: () => Date; readonly viewLinks?: ViewLinks },
  ) {}

  /** The consumer handler for all three feeds. */
  readonly handle = (entry: ConsumedEntry): void => {
    // Another instance owns this order: no write at all, and the consumer still moves the read
    // position past the entry in its transaction. Checked before parsing, so a malformed entry
    // is parked (and shown) by its owner only.
    if (!ownsOrder(this.o.shard, entry.orderId)) {
      this.#otherShards++;
      return;
    }
    const fact = factFrom(entry);
    if (!fact) return;
    const state = evolve(this.store.load(fact.orderId), fact);
    this.#apply(decide(state, this.o.now(), this.o));
  };

  /** Entries passed over because another shard owns their order, since this process started. */
  get otherShardEntries(): number { return this.#otherShards; }

  /** Re-decides every order still waiting on a part (the missing-part deadline is time-driven). */
  checkWaiting(): number {
    return this.store.db.transaction(() => {
      let emails = 0;
      for (const s of this.store.waiting()) {
        const d = decide(s, this.o.now(), this.o);
        // decide() returns the same state when nothing is due: then there is nothing to write.
        if (d.state !== s) emails += this.#apply(d);
      }
      return emails;
    }).immediate();
  }

  #apply(d: Decision): number {
    const at = this.o.now().toISOString();
    const queued = composeEmails(d, at, { renderer: this.renderer, messageIdDomain: this.o.messageIdDomain, viewLinks: this.o.viewLinks })
      .map((c) => ({ ...c, fresh: this.store.enqueue(c.email) }));
    logDecision(this.o.logger, d, queued, this.o.onMissingPart);
    this.store.save(d.state, at);
    return queued.filter((q) => q.fresh).length;
  }
}
