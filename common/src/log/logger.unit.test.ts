import { expect } from 'chai';
import { type LogLevel, createLogger } from './logger.ts';

function capture(level: LogLevel) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: 'test' }, level, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return { logger, lines };
}

function failingDeepInside(): never {
  throw new TypeError('boom', { cause: Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' }) });
}

describe('The logger', () => {
  it('logs an error with its name, message, stack and cause', () => {
    const { logger, lines } = capture('info');
    try { failingDeepInside(); } catch (err) { logger.error('request failed', { err }); }
    const err = lines[0]!['err'] as Record<string, unknown>;
    expect(err).to.include({ name: 'TypeError', message: 'boom' });
    expect(err['stack']).to.match(/^TypeError: boom\n\s+at failingDeepInside/);
    expect(err['cause']).to.include({ name: 'Error', message: 'disk full', code: 'SQLITE_FULL' });
    expect((err['cause'] as Record<string, unknown>)['stack']).to.be.a('string');
  });

  it('survives an error whose cause leads back to itself', () => {
    const { logger, lines } = capture('info');
    const a = new Error('a');
    a.cause = new Error('b', { cause: a });
    logger.error('loop', { err: a });
    expect(JSON.stringify(lines[0])).to.include('"message":"b"');
  });

  it('writes a line even when a field cannot be serialised', () => {
    const { logger, lines } = capture('info');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    logger.warn('odd', { cyclic });
    expect(lines[0]).to.include({ level: 'warn', msg: 'odd', service: 'test' });
    expect(lines[0]!['unloggable']).to.match(/circular/i);
  });

  it('writes debug lines at debug and drops them at info', () => {
    const debug = capture('debug');
    debug.logger.child({ requestId: 'r-1' }).debug('request', { status: 200 });
    expect(debug.lines).to.have.length(1);
    expect(debug.lines[0]).to.include({ level: 'debug', msg: 'request', service: 'test', requestId: 'r-1', status: 200 });
    const info = capture('info');
    info.logger.child({ requestId: 'r-1' }).debug('request', { status: 200 });
    expect(info.lines).to.deep.equal([]);
  });
});
