import type { ConsumedEntry } from '@shop/common';
import { PRODUCERS, readExamples } from '@shop/common/contract';
import { factFrom } from '../domain/facts.ts';
import { decide, type EmailIntent, evolve, initialState, type NotificationState, type PolicyConfig } from '../domain/policy.ts';
import { emailData, type TemplateData } from './emailRenderer.ts';

/** An email the service would really send for one of the producers' example orders. */
export interface SampleEmail {
  readonly kind: string;
  readonly orderId: string;
  /** What makes this sample worth looking at, for the preview page. */
  readonly label: string;
  readonly data: TemplateData;
}

/**
 * The producers' own example entries (`<service>/src/feed/contract/examples.atom.xml`, made by
 * their real code and read with common's Atom reader), merged oldest first as the three feeds
 * would deliver them.
 */
export function producerExamples(): ConsumedEntry[] {
  return PRODUCERS.flatMap((s) => readExamples(s)).sort((a, b) => a.updated.localeCompare(b.updated));
}

const cache = new Map<string, readonly SampleEmail[]>();

/**
 * Every email the service would send for the example orders, made by the service's own fact
 * reader and policy, so the templates are checked with exactly what real emails get. The entries
 * go through twice: with the service's policy, and with `send-without` and no wait, so that emails
 * about parts that come late (a confirmation missing its delivery section, and whatever follows
 * it) have samples too.
 */
export function sampleEmails(policy: PolicyConfig): readonly SampleEmail[] {
  const key = JSON.stringify(policy);
  let samples = cache.get(key);
  if (!samples) cache.set(key, samples = sampleEmailsFrom(producerExamples(), policy));
  return samples;
}

/** The same, from any entries, oldest first. */
export function sampleEmailsFrom(entries: readonly ConsumedEntry[], policy: PolicyConfig): SampleEmail[] {
  const seen = new Set<string>();
  const samples: SampleEmail[] = [];
  for (const cfg of [policy, { ...policy, onMissingPart: 'send-without', missingPartAfterMs: 0 } satisfies PolicyConfig]) {
    const states = new Map<string, NotificationState>();
    const take = (s: NotificationState, now: Date) => {
      const d = decide(s, now, cfg);
      states.set(s.orderId, d.state);
      for (const intent of d.emails) {
        const data = emailData(d.state, intent);
        const id = `${intent.kind} ${JSON.stringify(data)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        samples.push({ kind: intent.kind, orderId: d.state.orderId, label: labelOf(d.state, intent), data });
      }
    };
    for (const e of entries) {
      const fact = factFrom(e);
      if (fact) take(evolve(states.get(fact.orderId) ?? initialState(fact.orderId), fact), new Date(e.updated));
    }
    // Whatever waits for a deadline is due a day after the last entry.
    const later = new Date(Date.parse(entries.at(-1)?.updated ?? '2000-01-01T00:00:00Z') + 86_400_000);
    for (const s of [...states.values()]) take(s, later);
  }
  return samples;
}

function labelOf(s: NotificationState, intent: EmailIntent): string {
  const delivery = [...new Set(s.order?.lines.map((l) => l.delivery) ?? [])].sort().join(' and ');
  const { kind: _kind, ...carried } = intent;
  const details = Object.entries(carried).map(([k, v]) => (Array.isArray(v) ? (v.length > 0 ? `, ${k}: ${v.join(' and ')}` : '') : `, ${k}: ${String(v)}`)).join('');
  return `${s.orderId}: ${delivery || 'no'} lines${details}`;
}
