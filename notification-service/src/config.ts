import { hostname } from 'node:os';
import { join } from 'node:path';
import { type AccessConfig, EnvReader, isLoopbackHost, readAccessConfig, readDatabaseUrl, readLogLevel, readShopTimeZone, readShutdownDelay } from '@shop/common';
import { validate as validCron } from 'node-cron';
import { formatShard, MAX_SHARDS, parseShard, type Shard, WHOLE } from './domain/shard.ts';

/** The partitions of a new PostgreSQL database when PARTITIONS is not set. */
export const DEFAULT_PARTITIONS = 16;

export type PollSchedule = { readonly kind: 'interval'; readonly ms: number } | { readonly kind: 'cron'; readonly expression: string };

export interface NotificationConfig {
  readonly port: number;
  readonly host: string;
  /** The orders this instance acts on; entries of other shards only move the read position. */
  readonly shard: Shard;
  readonly dataDir: string;
  readonly dbFile: string;
  /**
   * DATABASE_URL: the instances share this PostgreSQL database (positions, order state, outbox,
   * parked entries) and the orders' partitions among themselves; unset, DATA_DIR's SQLite file.
   */
  readonly databaseUrl: string | undefined;
  /**
   * PARTITIONS (PostgreSQL only): how many partitions the orders are divided into, recorded by
   * the first instance on a database (default 16); at most that many instances share the work.
   */
  readonly partitions: number | undefined;
  /** INSTANCE_NAME: how this instance is shown in /status, /metrics and the logs (default host-pid). */
  readonly instanceName: string;
  readonly outboxDir: string;
  readonly templatesDir: string;
  /** PUBLIC_URL: this service as customers reach it; the base of the "view in your browser" links. */
  readonly publicUrl: string;
  /** VIEW_LINK_SECRET: signs the view links; unset, one is generated and kept in the database. */
  readonly viewLinkSecret: string | undefined;
  readonly feeds: { readonly orders: string; readonly billing: string; readonly shipping: string };
  readonly feedToken: string | undefined;
  /** The credential sent to each feed: ORDER_FEED_TOKEN, BILLING_FEED_TOKEN, SHIPPING_FEED_TOKEN, each defaulting to FEED_TOKEN. */
  readonly feedTokens: { readonly orders: string | undefined; readonly billing: string | undefined; readonly shipping: string | undefined };
  /** Who may see its pages (OPERATORS, OPERATORS_FILE; ALLOW_OPEN), see readAccessConfig. */
  readonly access: AccessConfig;
  /**
   * Origins other than a feed URL's own that its redirects and paging links may lead to, fetched
   * without the feed token (FEED_ALLOWED_ORIGINS, comma-separated); any other origin is refused.
   */
  readonly feedAllowedOrigins: readonly string[];
  readonly startAt: 'beginning' | 'now';
  readonly schedule: PollSchedule;
  readonly longPollSeconds: number;
  readonly maxAttempts: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly missingPartAfterMs: number;
  readonly onMissingPart: 'wait' | 'send-without';
  /**
   * The outbox's retries: backoff from base to max (doubling, ±20% jitter) of an email and of an
   * unreachable transport, tries before an email is dead, and how long one may wait in all.
   */
  readonly outboxRetry: { readonly baseMs: number; readonly maxMs: number; readonly maxAttempts: number; readonly maxAgeMs: number; readonly jitter: number };
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly messageIdDomain: string;
  readonly logLevel: string;
  /** SHUTDOWN_DELAY: seconds between SIGTERM (not ready from then on) and closing the server. */
  readonly shutdownDelaySeconds: number;
  /** SHOP_TIME_ZONE: the shop's time zone, which the emails' Date headers are written in. */
  readonly shopTimeZone: string;
}

const DEFAULT_TEMPLATES = new URL('../templates', import.meta.url).pathname;

/** Reads the environment once; lists every problem at once and throws. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): NotificationConfig {
  const r = new EnvReader(env);
  const dataDir = r.dir('DATA_DIR', './data/notification-service');
  const schedule = parseSchedule(r.string('POLL_SCHEDULE', '2s'), r);
  const smtpUrl = r.optional('SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) r.problem(`SMTP_URL must start with smtp:// or smtps://, got "${smtpUrl}"`);
  const shard = parseShard(r.string('SHARD', '0/1'));
  if (!shard.ok) r.problem(`SHARD ${shard.reason} (SHARD=i/N: this instance is number i, from 0, of N instances)`);
  const databaseUrl = readDatabaseUrl(r, 'postgres://shop@db.internal:5432/notification', 'the notifications');
  // On PostgreSQL the instances share the partitions by themselves: a SHARD would fight that.
  if (databaseUrl !== undefined && r.optional('SHARD') !== undefined) {
    r.problem('SHARD is for instances on SQLite, each with its own DATA_DIR; with DATABASE_URL the instances share the orders\' partitions by themselves: unset SHARD');
  }
  if (databaseUrl === undefined && r.optional('PARTITIONS') !== undefined) {
    r.problem('PARTITIONS applies only with DATABASE_URL (instances sharing a PostgreSQL database); on SQLite use SHARD=i/N');
  }
  if (databaseUrl !== undefined && schedule.kind === 'cron') {
    r.problem('POLL_SCHEDULE must be an interval (e.g. 2s) with DATABASE_URL: the instances read and send as work arrives, woken by PostgreSQL, and the interval is only the pause when nothing does');
  }
  const partitions = r.optional('PARTITIONS') === undefined ? undefined : r.int('PARTITIONS', DEFAULT_PARTITIONS, 1, MAX_SHARDS);
  const mailFrom = r.string('MAIL_FROM', 'Atom Shop <orders@shop.example>');
  const port = r.port('PORT', 3004);
  const host = r.string('HOST', '127.0.0.1');
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const feedToken = r.token('FEED_TOKEN');
  // The view links must reach this service from a customer's mail client: off loopback, the
  // address it listens on (0.0.0.0, a private address) is no such URL, so it must be said.
  if (!isLoopbackHost(host) && r.optional('PUBLIC_URL') === undefined) {
    r.problem(`PUBLIC_URL must be set when HOST (${host}) is not a loopback address: it is the base of every email's "view in your browser" link, this service as customers reach it (e.g. https://mail.shop.example)`);
  }
  // Each instance's database would generate a secret of its own, so a link reaching another
  // instance behind the same PUBLIC_URL would not open.
  if (shard.ok && shard.shard.count > 1 && databaseUrl === undefined && r.optional('VIEW_LINK_SECRET') === undefined) {
    r.problem(`VIEW_LINK_SECRET must be set when SHARD (${formatShard(shard.shard)}) names more than one instance: every instance must sign the "view in your browser" links with the same secret (at least 16 characters)`);
  }
  const config: NotificationConfig = {
    port,
    host,
    shard: shard.ok ? shard.shard : WHOLE,
    dataDir,
    dbFile: join(dataDir, 'notification.db'),
    databaseUrl,
    partitions,
    instanceName: readInstanceName(r),
    outboxDir: r.dir('OUTBOX_DIR', join(dataDir, 'outbox')),
    templatesDir: r.dir('TEMPLATES_DIR', DEFAULT_TEMPLATES),
    publicUrl: r.url('PUBLIC_URL', `http://${urlHost}:${port}`),
    viewLinkSecret: r.token('VIEW_LINK_SECRET'),
    feeds: {
      orders: r.url('ORDER_FEED_URL', 'http://127.0.0.1:3001/feed'),
      billing: r.url('BILLING_FEED_URL', 'http://127.0.0.1:3002/feed'),
      shipping: r.url('SHIPPING_FEED_URL', 'http://127.0.0.1:3003/feed'),
    },
    feedToken,
    feedTokens: {
      orders: r.token('ORDER_FEED_TOKEN') ?? feedToken,
      billing: r.token('BILLING_FEED_TOKEN') ?? feedToken,
      shipping: r.token('SHIPPING_FEED_TOKEN') ?? feedToken,
    },
    access: readAccessConfig(r, { host }),
    feedAllowedOrigins: r.origins('FEED_ALLOWED_ORIGINS'),
    startAt: r.oneOf('START_AT', 'beginning', ['beginning', 'now'] as const),
    schedule,
    longPollSeconds: r.int('LONG_POLL_SECONDS', schedule.kind === 'interval' ? 20 : 0, 0, 300),
    maxAttempts: r.int('MAX_ATTEMPTS', 5, 1, 1000),
    backoff: { baseMs: r.int('RETRY_BASE_MS', 500, 0, 3_600_000), maxMs: r.int('RETRY_MAX_MS', 15_000, 0, 86_400_000) },
    missingPartAfterMs: r.int('MISSING_PART_AFTER_SECONDS', 900, 0, 30 * 86_400) * 1000,
    onMissingPart: r.oneOf('ON_MISSING_PART', 'wait', ['wait', 'send-without'] as const),
    outboxRetry: {
      baseMs: r.int('OUTBOX_RETRY_BASE_SECONDS', 30, 0, 86_400) * 1000,
      maxMs: r.int('OUTBOX_RETRY_MAX_SECONDS', 3600, 0, 7 * 86_400) * 1000,
      maxAttempts: r.int('OUTBOX_MAX_TRIES', 10, 1, 1000),
      maxAgeMs: r.int('OUTBOX_MAX_AGE_HOURS', 72, 1, 24 * 365) * 3_600_000,
      jitter: 0.2,
    },
    smtpUrl,
    mailFrom,
    messageIdDomain: r.string('MESSAGE_ID_DOMAIN', /@([^>\s]+)/.exec(mailFrom)?.[1] ?? 'shop.example'),
    logLevel: readLogLevel(r),
    shutdownDelaySeconds: readShutdownDelay(r),
    shopTimeZone: readShopTimeZone(r),
  };
  r.done();
  return Object.freeze(config);
}

/**
 * INSTANCE_NAME: letters, digits, dot, dash and underscore, at most 40 (it must fit, with the
 * service's name, in PostgreSQL's 63-byte application_name, where the instances find each other's
 * names). Default: the host's first label and the pid.
 */
function readInstanceName(r: EnvReader): string {
  const fallback = `${hostname().split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 30)}-${process.pid}`;
  const name = r.string('INSTANCE_NAME', fallback);
  if (!/^[A-Za-z0-9._-]{1,40}$/.test(name)) r.problem(`INSTANCE_NAME must be 1 to 40 letters, digits, dots, dashes or underscores, unique among the instances, got "${name}"`);
  return name;
}

/** `500ms`, `5s`, `1m` or a bare number of ms is an interval; anything with spaces is a cron expression. */
function parseSchedule(raw: string, r: EnvReader): PollSchedule {
  const m = /^(\d+)\s*(ms|s|m)?$/.exec(raw.trim());
  if (m) {
    const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm' ?? 'ms'] ?? 1);
    if (ms >= 100) return { kind: 'interval', ms };
  } else if (raw.includes(' ') && validCron(raw)) {
    return { kind: 'cron', expression: raw };
  }
  r.problem(`POLL_SCHEDULE must be an interval of at least 100ms (e.g. 2s) or a cron expression (e.g. "*/5 * * * * *"), got "${raw}"`);
  return { kind: 'interval', ms: 2000 };
}
