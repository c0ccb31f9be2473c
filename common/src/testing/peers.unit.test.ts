import { expect } from 'chai';
import type { Context } from 'mocha';
import { SKIP_REASON, isCi, requirePeer } from './peers.ts';

class Skipped extends Error {}

/** A stand-in for a before hook's `this`: records the skip and the suite it marks. */
function hookContext(): { ctx: Context; suite: { [SKIP_REASON]?: string }; skipped: () => boolean } {
  const suite: { [SKIP_REASON]?: string } = {};
  let skipped = false;
  const ctx = { runnable: () => ({ parent: suite }), skip: () => { skipped = true; throw new Skipped(); } };
  return { ctx: ctx as unknown as Context, suite, skipped: () => skipped };
}

const NGINX = { name: 'nginx', install: 'apt-get install nginx' };

describe('requirePeer', () => {
  it('lets the suite run when the peer is there', async () => {
    const h = hookContext();
    await requirePeer(h.ctx, { ...NGINX, check: async () => true }, {});
    expect(h.skipped()).to.equal(false);
    expect(h.suite[SKIP_REASON]).to.equal(undefined);
  });

  it('skips the suite when the peer is missing, naming the package and how to install it', async () => {
    const h = hookContext();
    const outcome = await requirePeer(h.ctx, { ...NGINX, check: () => false }, {}).catch((e: unknown) => e);
    expect(outcome).to.be.instanceOf(Skipped);
    expect(h.skipped()).to.equal(true);
    expect(h.suite[SKIP_REASON]).to.equal('nginx is not installed (apt-get install nginx, or bash .ci/run)');
  });

  it('fails instead under CI=true, naming the package', async () => {
    const h = hookContext();
    const outcome = await requirePeer(h.ctx, { ...NGINX, check: () => false }, { CI: 'true' }).catch((e: unknown) => e);
    expect(outcome).to.be.instanceOf(Error).and.not.to.be.instanceOf(Skipped);
    expect((outcome as Error).message).to.include('nginx is not installed (apt-get install nginx');
    expect(h.skipped()).to.equal(false);
  });

  it('reads CI=true and CI=1 as CI, anything else as a developer machine', () => {
    expect(['true', 'TRUE', '1'].map((CI) => isCi({ CI }))).to.deep.equal([true, true, true]);
    expect(['', 'false', '0', 'no'].map((CI) => isCi({ CI }))).to.deep.equal([false, false, false, false]);
    expect(isCi({})).to.equal(false);
  });
});
