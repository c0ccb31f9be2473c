// Mocha root hooks (listed under `require` in .mocharc.json): stops the test PostgreSQL cluster
// once every suite has run. Cheap when no test used PostgreSQL: nothing was started.
import { stopTestCluster } from './postgres.ts';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await stopTestCluster();
  },
};
