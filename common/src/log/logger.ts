/** Structured logging: one JSON object per line on stdout. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** True when a line at `level` would be written (so a hot path can skip building it). */
  enabled(level: LogLevel): boolean;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** A logger writing JSON lines; `level: 'silent'` (the default under tests) writes nothing. */
export function createLogger(base: Record<string, unknown>, level: LogLevel = defaultLevel(), write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const threshold = LEVELS[level];
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[lvl] < threshold) return;
    const entry = { time: new Date().toISOString(), level: lvl, ...base, msg, ...fields };
    let line: string;
    try {
      line = JSON.stringify(entry, errorReplacer);
    } catch (err) {
      // A field that cannot be serialised (a cycle, a BigInt) must not turn logging into a crash.
      line = JSON.stringify({ time: entry.time, level: lvl, ...base, msg, unloggable: String(err) });
    }
    write(`${line}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level, write),
    enabled: (lvl) => LEVELS[lvl] >= threshold,
  };
}

function defaultLevel(): LogLevel {
  const fromEnv = process.env['LOG_LEVEL'];
  if (fromEnv && fromEnv in LEVELS) return fromEnv as LogLevel;
  return process.env['npm_lifecycle_event'] === 'test' ? 'silent' : 'info';
}

/** Errors have no enumerable fields: log what an operator needs to find the fault. */
function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? plainError(value, 0) : value;
}

function plainError(e: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: e.name, message: e.message };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out['code'] = code;
  if (e.stack !== undefined) out['stack'] = e.stack;
  if (e.cause !== undefined) {
    // Causes nest; a chain that loops back on itself stops here instead of overflowing.
    out['cause'] = e.cause instanceof Error ? depth < 5 ? plainError(e.cause, depth + 1) : String(e.cause) : e.cause;
  }
  return out;
}
