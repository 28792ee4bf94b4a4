/**
 * `npm run bench:cassandra-spin [-- --slack-ns 50000,500000,1000000] [--seconds 8]`: what the
 * running development Cassandra (.local/cassandra/cassandra.pid) costs in CPU when it is lightly
 * busy, at each timer slack (docs/cassandra-cpu.md).
 *
 * For each slack: every thread of the node is given it (/proc/<tid>/timerslack_ns: root or
 * CAP_SYS_NICE), then one client reads one row by key (`system.local`, prepared) every 2 ms and
 * then every 10 ms for `--seconds` each; the node's utime + stime from /proc over each run ÷
 * reads is its CPU per read, and the client times each read. The slack the node had is put back
 * at the end, so the development node is left as it was.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cassandra from 'cassandra-driver';

const { values } = parseArgs({
  options: {
    'slack-ns': { type: 'string', default: '50000,500000,1000000' },
    seconds: { type: 'string', default: '8' },
  },
});
const slacks = values['slack-ns'].split(',').map((value) => Number(value));
const seconds = Number(values.seconds);
if (slacks.some((slack) => !Number.isInteger(slack) || slack < 1) || !(seconds > 0)) {
  throw new Error('--slack-ns takes positive whole nanoseconds (comma-separated), --seconds > 0');
}
const GAPS_MS = [2, 10] as const;
const TICK_MS = 10; // USER_HZ 100: /proc/<pid>/stat counts CPU in 10 ms ticks

const pid = readFileSync('.local/cassandra/cassandra.pid', 'utf8').trim();
const threads = () => readdirSync(`/proc/${pid}/task`);
const cpuMs = () => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
};
const setSlack = (slack: number) => {
  for (const tid of threads()) {
    try {
      writeFileSync(`/proc/${tid}/timerslack_ns`, String(slack));
    } catch (error) {
      // A thread that ended meanwhile; any other failure is a missing privilege.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
};

const original = Number(readFileSync(`/proc/${pid}/timerslack_ns`, 'utf8').trim());
const client = new cassandra.Client({
  contactPoints: ['127.0.0.1:9042'],
  localDataCenter: 'datacenter1',
});
const QUERY = 'SELECT key, release_version FROM system.local WHERE key = ?';
const read = () => client.execute(QUERY, ['local'], { prepare: true });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

try {
  await client.connect();
  for (let i = 0; i < 500; i++) await read(); // warm the driver and the node's read path
  console.log(`Cassandra pid ${pid}, slack before: ${original} ns; ${seconds} s per run`);
  console.log(
    '| timer slack | gap | reads | CPU ms / read | share of a core | read p50 / p99 ms |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const slack of slacks) {
    setSlack(slack);
    for (const gapMs of GAPS_MS) {
      const latencies: number[] = [];
      const cpuBefore = cpuMs();
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        const started = performance.now();
        await read();
        latencies.push(performance.now() - started);
        await sleep(gapMs);
      }
      const used = cpuMs() - cpuBefore;
      latencies.sort((a, b) => a - b);
      console.log(
        `| ${slack / 1000} µs | ${gapMs} ms | ${latencies.length} | ${(used / latencies.length).toFixed(2)} | ${((100 * used) / (seconds * 1000)).toFixed(1)} % | ${quantile(latencies, 0.5).toFixed(2)} / ${quantile(latencies, 0.99).toFixed(2)} |`,
      );
    }
  }
} finally {
  setSlack(original);
  await client.shutdown();
}
