import { ConfigError } from '@shop/common';
import { expect } from 'chai';
import { readConfig } from './config.ts';

describe('readConfig', () => {
  describe('SHARD', () => {
    it('defaults to 0/1, the one instance that acts on every order', () => {
      expect(readConfig({}).shard).to.deep.equal({ index: 0, count: 1 });
    });

    it('reads i/N', () => {
      expect(readConfig({ SHARD: '1/3' }).shard).to.deep.equal({ index: 1, count: 3 });
    });

    it('refuses i not below N, N of 0 and anything not shaped i/N, naming the variable and the value', () => {
      const problemsOf = (value: string) => {
        try {
          readConfig({ SHARD: value });
        } catch (err) {
          expect(err).to.be.instanceOf(ConfigError);
          return (err as ConfigError).problems;
        }
        return [];
      };
      expect(problemsOf('2/2')).to.deep.equal(['SHARD i must be from 0 to N-1 (shards are numbered from 0), got "2/2" (SHARD=i/N: this instance is number i, from 0, of N instances)']);
      expect(problemsOf('0/0')[0]).to.match(/^SHARD N must be from 1 to 1024, got "0\/0"/);
      expect(problemsOf('1of2')[0]).to.match(/^SHARD must look like i\/N, e.g. 0\/2 .*got "1of2"/);
    });
  });
});
