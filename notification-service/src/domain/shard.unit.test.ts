import { expect } from 'chai';
import { sampleOrderIds } from '../testing/orderIds.ts';
import { formatShard, ownsOrder, parseShard, shardOf, WHOLE } from './shard.ts';

describe('Shard', () => {
  describe('parseShard', () => {
    it('reads i/N', () => {
      expect(parseShard('0/1')).to.deep.equal({ ok: true, shard: { index: 0, count: 1 } });
      expect(parseShard('1/2')).to.deep.equal({ ok: true, shard: { index: 1, count: 2 } });
      expect(parseShard('6/7')).to.deep.equal({ ok: true, shard: { index: 6, count: 7 } });
    });

    it('refuses a malformed value, N below 1 and i not below N, saying which', () => {
      for (const raw of ['', '1', '0/', '/2', 'a/b', '-1/2', '0/2/3', ' 0/2', '0 / 2', '1.0/2', '0x1/2']) {
        const r = parseShard(raw);
        expect(r.ok, raw).to.equal(false);
        expect(!r.ok && r.reason, raw).to.match(/must look like i\/N/);
      }
      const zero = parseShard('0/0');
      expect(!zero.ok && zero.reason).to.match(/N must be from 1/);
      for (const raw of ['2/2', '5/3']) {
        const r = parseShard(raw);
        expect(!r.ok && r.reason, raw).to.match(/i must be from 0 to N-1/);
      }
      expect(parseShard('0/2000').ok).to.equal(false);
    });

    it('prints back what it read', () => {
      expect(formatShard({ index: 3, count: 4 })).to.equal('3/4');
      expect(formatShard(WHOLE)).to.equal('0/1');
    });
  });

  describe('shardOf', () => {
    // Pinned known answers, computed independently (Python: int.from_bytes(sha256(id.encode()).digest()[:4], 'big') % N).
    // If one of these changes, every running deployment would reassign its orders: do not "fix" the test.
    it('is the first 4 bytes of SHA-256 of the UTF-8 id, as a big-endian uint32, modulo N', () => {
      const known: [string, number, number, number][] = [
        ['ORD-7K3M9-Q2XHD', 1, 0, 3],
        ['ORD-00000-00000', 0, 2, 4],
        ['ORD-ZZZZZ-ZZZZZ', 0, 1, 1],
        ['ORD-ÉTÉ-1', 1, 2, 4],
      ];
      for (const [id, mod2, mod3, mod7] of known) {
        expect([shardOf(id, 2), shardOf(id, 3), shardOf(id, 7)], id).to.deep.equal([mod2, mod3, mod7]);
      }
    });

    it('gives every order exactly one owner among N instances', () => {
      const ids = sampleOrderIds(500, 'owners');
      for (const count of [1, 2, 3, 5, 8]) {
        for (const id of ids) {
          const owners = Array.from({ length: count }, (_, index) => index).filter((index) => ownsOrder({ index, count }, id));
          expect(owners, `${id} among ${count}`).to.deep.equal([shardOf(id, count)]);
        }
      }
    });

    it('lets the single default instance own everything', () => {
      expect(sampleOrderIds(100).every((id) => ownsOrder(WHOLE, id))).to.equal(true);
    });

    it('spreads 10,000 order ids about evenly over 2, 3 and 4 shards', () => {
      const ids = sampleOrderIds(10_000, 'spread');
      for (const count of [2, 3, 4]) {
        const sizes = new Array<number>(count).fill(0);
        for (const id of ids) sizes[shardOf(id, count)]! += 1;
        const fair = ids.length / count;
        for (const size of sizes) expect(size, `${count} shards: ${sizes.join(', ')}`).to.be.within(fair * 0.9, fair * 1.1);
      }
    });
  });
});
