// A stand-in for another instance of a service, for the leadership tests: tries to lead
// `<name>` on `<url>` and prints `leader` or `follower` on each change, until killed.
import { PgLeadership } from '../pgLeadership.ts';

const [url, name, retryMs] = process.argv.slice(2);
if (!url || !name) throw new Error('usage: leaderProcess.ts <postgres url> <name> [retry ms]');
const leadership = new PgLeadership({
  connectionString: url,
  name,
  retryMs: Number(retryMs ?? 1000),
  onChange: (leader) => process.stdout.write(leader ? 'leader\n' : 'follower\n'),
});
await leadership.start();
process.stdout.write('started\n');
process.once('SIGTERM', () => { void leadership.stop().then(() => process.exit(0)); });
