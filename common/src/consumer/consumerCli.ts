import type { ConsumerStatus, ReplayResult } from './consumerOperations.ts';
import type { ParkedSummary } from './consumerStore.ts';
import type { FeedConsumer } from './feedConsumer.ts';

/** What the command line needs of a subscription: FeedConsumer's operator API, nothing more. */
export type OperableConsumer = Pick<FeedConsumer, 'name' | 'status' | 'parked' | 'replayParked' | 'resetPosition'>;

/** The same operator API, async (PgFeedConsumer's): for `runAsyncConsumerCli`. */
export interface AsyncOperableConsumer {
  readonly name: string;
  status(): Promise<ConsumerStatus>;
  parked(page?: { readonly after?: number; readonly limit?: number }): Promise<ParkedSummary[]>;
  replayParked(atomId: string): Promise<ReplayResult>;
  resetPosition(): Promise<void>;
}

type AnyConsumer = OperableConsumer | AsyncOperableConsumer;

export interface ConsumerCliOptions<Op extends AnyConsumer = OperableConsumer> {
  /** The service's subscriptions, in the order `positions` lists them. */
  readonly consumers: readonly Op[];
  /** The npm workspace, for the usage line: `npm run cli -w <serviceName> -- <command>`. */
  readonly serviceName: string;
  /** Receives each line of output (the usage and the refusals are one multi-line string). */
  readonly out: (line: string) => void;
  /** Appended to what a successful replay and reset print: what the service did with the entries. */
  readonly notes?: { readonly replayed?: string; readonly reset?: string };
  /** Usage lines of the service's own commands (which it runs itself), listed after the consumer's. */
  readonly moreCommands?: readonly string[];
}

/** The usage text of the consumer command line for one service. */
export function consumerCliUsage(serviceName: string, subscriptions: readonly string[], moreCommands: readonly string[] = []): string {
  return `Usage: npm run cli -w ${serviceName} -- <command>
  positions                        read position, newest entry seen, parked count and errors of each subscription
  parked [subscription]            the parked entries (of one subscription)
  replay <subscription> <entry-id> run a parked entry, and those of its order held behind it, through the handler again
  reset <subscription>             read that feed again from its oldest archive
${moreCommands.map((c) => `  ${c}\n`).join('')}Subscriptions: ${subscriptions.join(', ')}. Uses the same environment (DATA_DIR, ...) as the service.`;
}

/** How many parked entries the `parked` command reads at a time. */
const PARKED_PAGE = 500;

type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'positions' }
  | { readonly kind: 'parked'; readonly consumer: AnyConsumer | undefined }
  | { readonly kind: 'replay'; readonly consumer: AnyConsumer; readonly atomId: string }
  | { readonly kind: 'reset'; readonly consumer: AnyConsumer };

/**
 * Runs one operator command against a service's feed subscriptions and returns the exit code:
 * 0 done, 1 a replay that failed (the reason is printed), 2 a command line that names no known
 * command, subscription or entry (the problem and the usage are printed). Reads and writes only
 * through the consumers' public API.
 */
export function runConsumerCli(args: readonly string[], options: ConsumerCliOptions): number {
  const steps = consumerCliSteps(args, options);
  for (let r = steps.next(); ; r = steps.next(r.value)) if (r.done) return r.value;
}

/**
 * `runConsumerCli` over consumers whose operations are async (PgFeedConsumer): the same commands,
 * output and exit codes, each operation awaited.
 */
export async function runAsyncConsumerCli(args: readonly string[], options: ConsumerCliOptions<AsyncOperableConsumer>): Promise<number> {
  const steps = consumerCliSteps(args, options);
  for (let r = steps.next(); ; r = steps.next(await r.value)) if (r.done) return r.value;
}

/**
 * The commands, once for both engines: each consumer operation is yielded, and the driver sends
 * back its result (as is for a synchronous consumer, awaited for an async one).
 */
function* consumerCliSteps(args: readonly string[], options: ConsumerCliOptions<AnyConsumer>): Generator<unknown, number, any> {
  const { consumers, out } = options;
  const usage = consumerCliUsage(options.serviceName, consumers.map((c) => c.name), options.moreCommands);
  const parsed = parse(args, consumers);
  if (!parsed.ok) { out(`${parsed.problem}\n\n${usage}`); return 2; }
  const note = (text: string | undefined) => (text ? `; ${text}` : '');
  const cmd = parsed.command;
  switch (cmd.kind) {
    case 'help':
      out(usage);
      return 0;
    case 'positions': {
      const width = Math.max(...consumers.map((c) => c.name.length));
      for (const c of consumers) {
        const s: ConsumerStatus = yield c.status();
        out(`${s.name.padEnd(width)} position ${s.position} of ${s.newestSeen} seen (${s.behind} behind), parked ${s.parkedTotal}, last success ${s.lastSuccessAt ?? 'never'}${s.lastError ? `, last error ${s.lastErrorAt}: ${s.lastError}` : ''}  ${s.feedUrl}`);
      }
      return 0;
    }
    case 'parked': {
      // Page by page, each printed as it is read: a lot of 100,000 parked entries never sits in memory.
      let listed = 0;
      for (const c of cmd.consumer ? [cmd.consumer] : consumers) {
        for (let after = 0; ;) {
          const page: ParkedSummary[] = yield c.parked({ after, limit: PARKED_PAGE });
          for (const p of page) out(`${p.subscription} ${p.atomId} position ${p.position} ${p.type} order ${p.orderId} (${p.attempts} attempts, parked ${p.parkedAt}): ${p.error}`);
          listed += page.length;
          if (page.length < PARKED_PAGE) break;
          after = page.at(-1)!.position;
        }
      }
      if (listed === 0) out(cmd.consumer ? `no parked entries in ${cmd.consumer.name}` : 'no parked entries');
      return 0;
    }
    case 'replay': {
      const r: ReplayResult = yield cmd.consumer.replayParked(cmd.atomId);
      if (!r.ok) { out(`not replayed: ${r.reason}${r.error ? `: ${r.error}` : ''}`); return 1; }
      const held = r.replayed - 1;
      out(`replayed ${cmd.atomId}${held > 0 ? ` and ${held} later ${held === 1 ? 'entry' : 'entries'} of its order held behind it` : ''}${note(options.notes?.replayed)}`);
      return 0;
    }
    case 'reset':
      yield cmd.consumer.resetPosition();
      out(`${cmd.consumer.name} will be read again from its oldest archive${note(options.notes?.reset)}`);
      return 0;
    default: {
      const unreachable: never = cmd;
      throw new Error(`unhandled command ${JSON.stringify(unreachable)}`);
    }
  }
}

function parse(args: readonly string[], consumers: readonly AnyConsumer[]): { ok: true; command: Command } | { ok: false; problem: string } {
  const names = consumers.map((c) => c.name).join(', ');
  const [command, ...rest] = args;
  const fail = (problem: string) => ({ ok: false as const, problem });
  const at = (max: number, build: () => Command | string) => {
    if (rest.length > max) return fail(`too many arguments for ${command}: ${rest.slice(max).map((a) => `"${a}"`).join(' ')}`);
    const built = build();
    return typeof built === 'string' ? fail(built) : { ok: true as const, command: built };
  };
  const subscription = (name: string | undefined): AnyConsumer | string => {
    if (name === undefined) return `name a subscription: one of ${names}`;
    return consumers.find((c) => c.name === name) ?? `unknown subscription "${name}": one of ${names}`;
  };
  switch (command) {
    case undefined: return fail('name a command');
    case 'help': case '--help': case '-h': return at(Infinity, () => ({ kind: 'help' }));
    case 'positions': return at(0, () => ({ kind: 'positions' }));
    case 'parked': return at(1, () => {
      const c = rest[0] === undefined ? undefined : subscription(rest[0]);
      return typeof c === 'string' ? c : { kind: 'parked', consumer: c };
    });
    case 'replay': return at(2, () => {
      const c = subscription(rest[0]);
      if (typeof c === 'string') return c;
      return rest[1] ? { kind: 'replay', consumer: c, atomId: rest[1] } : 'name the parked entry to replay (its id, as "parked" lists it)';
    });
    case 'reset': return at(1, () => {
      const c = subscription(rest[0]);
      return typeof c === 'string' ? c : { kind: 'reset', consumer: c };
    });
    default: return fail(`unknown command "${command}"`);
  }
}
