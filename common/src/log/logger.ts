/** Structured logging: one JSON object per line on stdout. */
export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/** A logger writing JSON lines; `level: 'silent'` (the default under tests) writes nothing. */
export function createLogger(base: Record<string, unknown>, level: LogLevel = defaultLevel(), write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const threshold = LEVELS[level];
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[lvl] < threshold) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, ...base, msg, ...fields }, errorReplacer)}\n`);
  };
  return {
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level, write),
  };
}

function defaultLevel(): LogLevel {
  const fromEnv = process.env['LOG_LEVEL'];
  if (fromEnv && fromEnv in LEVELS) return fromEnv as LogLevel;
  return process.env['npm_lifecycle_event'] === 'test' ? 'silent' : 'info';
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
