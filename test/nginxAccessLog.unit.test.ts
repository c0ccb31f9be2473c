import { expect } from 'chai';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AccessLogLine, cacheFills, fillsWithinOneWindow, followAccessLog, isCredentialCheck, parseAccessLogLine } from '../deploy/nginx/accessLog.ts';
import { tempDir } from '../common/src/testing/tempDir.ts';

/** A line as nginx writes it with deploy/nginx's `feedcache` format. */
function line(o: { cache: string; at: string; took?: string; originStatus?: string; service?: string; target?: string; rep?: string; etag?: string }): string {
  const asked = o.originStatus ?? (['HIT', 'UPDATING', '-'].includes(o.cache) ? '-' : '304');
  const etag = asked === '-' ? '-' : (o.etag ?? '"v1"').replaceAll('"', '\\x22');
  return `127.0.0.1 [30/Nov/2026:06:56:30 +0000] "GET ${o.target ?? '/feed'} HTTP/1.1" 200 767 cache=${o.cache} `
    + `service=${o.service ?? 'orders_origin'} origin=${asked === '-' ? '-' : '127.0.0.1:40023'} origin_status=${asked} origin_etag=${etag} `
    + `origin_s=${asked === '-' ? '-' : '0.001'} total_s=${o.took ?? '0.002'} at=${o.at} rep=${o.rep ?? 'atom/identity'}`;
}

describe('Reading the nginx access log', () => {
  it('reads a line: what was asked, what the cache did, the origin, and when it began and ended', () => {
    expect(parseAccessLogLine(line({ cache: 'REVALIDATED', at: '1796021790.005', took: '1.250', etag: '"3-5a"' }))).to.deep.equal({
      method: 'GET', target: '/feed', status: 200, cache: 'REVALIDATED', service: 'orders_origin', origin: '127.0.0.1:40023',
      originStatus: '304', originEtag: '"3-5a"', startMs: 1796021788755, endMs: 1796021790005, representation: 'atom/identity',
    });
    expect(parseAccessLogLine(line({ cache: '-', at: '1796021790.005' }))).to.include({ cache: '', origin: '', originStatus: '', originEtag: '' });
    expect(parseAccessLogLine('127.0.0.1 - - [30/Nov/2026] "GET / HTTP/1.1" 200 12')).to.equal(undefined);
  });

  it('reads the path without a query: nginx logs none (signed links carry credentials there), an older line has it cut off', () => {
    expect(parseAccessLogLine(line({ cache: '-', at: '20.000', target: '/downloads/sh-1/EBOOK-7' }))).to.include({ target: '/downloads/sh-1/EBOOK-7' });
    expect(parseAccessLogLine(line({ cache: '-', at: '20.000', target: '/view/m-1?t=secret' }))).to.include({ target: '/view/m-1' });
    expect(parseAccessLogLine(line({ cache: '-', at: '20.000', target: '/downloads/x?expires=1&sig=secret' }))?.target).to.equal('/downloads/x');
  });

  it('reads the reader nginx accepted, and tells a credential check from a read of the feed', () => {
    const read = parseAccessLogLine(`${line({ cache: 'HIT', at: '20.000' })} reader=alice uri=/feed/archive/1`)!;
    expect(read).to.include({ reader: 'alice', uri: '/feed/archive/1', cache: 'HIT' });
    const check = parseAccessLogLine(`${line({ cache: 'MISS', at: '20.000', originStatus: '200' })} reader=alice uri=/_feed_auth`)!;
    expect(parseAccessLogLine(`${line({ cache: 'HIT', at: '20.000' })} reader=- uri=/feed`)).to.include({ reader: '' });
    expect(isCredentialCheck(check)).to.equal(true);
    expect(isCredentialCheck(read)).to.equal(false);
    expect(cacheFills([check])).to.deep.equal([]);
  });

  it('follows the file as it grows, a half-written last line included once complete', () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'access.log');
      const read = followAccessLog(file);
      expect(read()).to.deep.equal([]);
      const [a, b] = [line({ cache: 'MISS', at: '1.000', originStatus: '200' }), line({ cache: 'HIT', at: '1.500' })];
      appendFileSync(file, `${a}\n${b.slice(0, 20)}`);
      expect(read().map((l) => l.cache)).to.deep.equal(['MISS']);
      appendFileSync(file, `${b.slice(20)}\n`);
      expect(read().map((l) => l.cache)).to.deep.equal(['MISS', 'HIT']);
    } finally {
      dir.remove();
    }
  });

  it('counts as cache fills only origin answers that were stored (200 or 304 to MISS, EXPIRED, REVALIDATED)', () => {
    const lines = [
      line({ cache: 'MISS', at: '10.000', originStatus: '200' }),
      line({ cache: 'HIT', at: '10.100' }),
      line({ cache: 'MISS', at: '10.200', originStatus: '401' }),
      line({ cache: 'STALE', at: '12.000', originStatus: '502' }),
      line({ cache: '-', at: '12.100', originStatus: '200' }),
      line({ cache: 'EXPIRED', at: '12.300', originStatus: '200' }),
    ].map((l) => parseAccessLogLine(l)!);
    expect(cacheFills(lines).map((l) => l.cache)).to.deep.equal(['MISS', 'EXPIRED']);
  });

  describe('at most one origin request per cache key per freshness window', () => {
    const fills = (...ats: Array<[string, string?]>): AccessLogLine[] =>
      ats.map(([at, rep]) => parseAccessLogLine(line({ cache: 'REVALIDATED', at, rep, took: '0.000' }))!);

    it('accepts fills max-age + 1 whole seconds apart (nginx keeps time in seconds)', () => {
      expect(fillsWithinOneWindow(fills(['100.999'], ['102.000'], ['104.500']), 1)).to.deep.equal([]);
    });

    it('names two fills of one key in one window, however close or far in milliseconds', () => {
      expect(fillsWithinOneWindow(fills(['100.000'], ['101.999']), 1)).to.have.length(1);
      expect(fillsWithinOneWindow(fills(['100.998'], ['100.999']), 1)).to.have.length(1);
      expect(fillsWithinOneWindow(fills(['100.000'], ['102.000']), 2)).to.have.length(1);
    });

    it('keeps keys apart: another representation has windows of its own', () => {
      expect(fillsWithinOneWindow(fills(['100.000', 'atom/identity'], ['100.000', 'atom/gzip']), 1)).to.deep.equal([]);
    });
  });
});
