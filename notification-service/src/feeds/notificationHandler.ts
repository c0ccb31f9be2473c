import type { ConsumedEntry, Logger } from '@shop/common';
import { factFrom } from '../domain/facts.ts';
import { type Decision, decide, evolve, type PolicyConfig } from '../domain/policy.ts';
import { ownsOrder, type Shard } from '../domain/shard.ts';
import type { NotificationStore } from '../db/notificationStore.ts';
import { type EmailRenderer, emailData } from '../mail/emailRenderer.ts';
import { messageIdFor } from '../mail/mimeMessage.ts';
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
    let queued = 0;
    for (const intent of d.emails) {
      const missing = intent.kind === 'confirmation' ? intent.missing : [];
      const part = intent.kind === 'followup' ? intent.part : undefined;
      // One follow-up per late part, so the part is in the key (and so in the Message-ID).
      const key = `order-${d.state.orderId}-${intent.kind}${part ? `-${part}` : ''}`;
      // Never throws for a template: a broken one is not in use, and one that fails anyway gives the built-in form.
      const data = { ...emailData(d.state, intent), viewUrl: this.o.viewLinks?.urlFor(key) ?? null };
      const rendered = this.renderer.render(intent.kind, data);
      const fresh = this.store.enqueue({
        key, orderId: d.state.orderId, kind: intent.kind, toName: d.state.order!.customer.name, toAddress: d.state.order!.customer.email,
        ...rendered, messageId: messageIdFor(key, this.o.messageIdDomain), createdAt: at, templateData: JSON.stringify(data),
      });
      if (fresh) queued++;
      this.o.logger.info('email queued', { orderId: d.state.orderId, kind: intent.kind, missing, part, templateVersion: rendered.templateVersion, duplicate: !fresh });
    }
    if (d.becameOverdue.length > 0) {
      this.o.logger.warn('order waits for a part past its deadline', { orderId: d.state.orderId, missing: d.becameOverdue, policy: this.o.onMissingPart });
    }
    this.store.save(d.state, at);
    return queued;
  }
}
