/**
 * How every Cassandra of the project is launched (infra/cassandra/lib.sh cassandra_launch): with a
 * wider timer slack, so that the request threads' 10 µs spin-parks between requests do not cost
 * half a core whenever the node is lightly busy (docs/cassandra-cpu.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const DEFAULT_SLACK_NS = '1000000';

/** The timer slack of every thread of `pid`, as the kernel reports it. */
function threadSlacks(pid: string): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) =>
    readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8').trim(),
  );
}

describe('the Cassandra launcher', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cassandra-launch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // A stand-in `java` (JAVA_HOME/bin/java) that reports the timer slack it was exec'd with and
  // that of a thread it starts (a subshell), then exits: cassandra_launch is run for real, only
  // the JVM is replaced.
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'logs'));
  const standIn = join(dir, 'bin', 'java');
  writeFileSync(
    standIn,
    '#!/usr/bin/env bash\necho "main $(cat /proc/$$/timerslack_ns)"\n(echo "child $(cat /proc/self/timerslack_ns)")\n',
  );
  chmodSync(standIn, 0o755);

  function launch(slack: string | undefined): { status: number | null; output: string } {
    const env: NodeJS.ProcessEnv = { ...process.env, JAVA_HOME: dir };
    delete env['CASSANDRA_TIMER_SLACK_NS'];
    if (slack !== undefined) env['CASSANDRA_TIMER_SLACK_NS'] = slack;
    const script = [
      'log() { echo "$*" >&2; }',
      'source infra/cassandra/lib.sh',
      'CASSANDRA_JVM_FLAGS=()',
      `cassandra_launch "${dir}" "${dir}" "${dir}/logs" "${dir}/pid" || exit $?`,
      `while kill -0 "$(cat "${dir}/pid")" 2>/dev/null; do sleep 0.05; done`,
    ].join('\n');
    rmSync(join(dir, 'logs', 'stdout.log'), { force: true });
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', env, timeout: 20_000 });
    let stdout = '';
    try {
      stdout = readFileSync(join(dir, 'logs', 'stdout.log'), 'utf8');
    } catch {
      // not launched
    }
    return { status: run.status, output: `${run.stderr}${stdout}` };
  }

  it('runs the JVM and the threads it starts with CASSANDRA_TIMER_SLACK_NS, 1000000 ns (1 ms) by default', () => {
    const byDefault = launch(undefined);
    assert.equal(byDefault.status, 0, byDefault.output);
    assert.match(byDefault.output, new RegExp(`main ${DEFAULT_SLACK_NS}\\n`));
    assert.match(byDefault.output, new RegExp(`child ${DEFAULT_SLACK_NS}\\n`));

    const chosen = launch('750000');
    assert.equal(chosen.status, 0, chosen.output);
    assert.match(chosen.output, /main 750000\n/);
    assert.match(chosen.output, /child 750000\n/);
  });

  it('with 0, leaves the slack it inherits (the kernel default)', () => {
    const inherited = readFileSync('/proc/self/timerslack_ns', 'utf8').trim();
    const zero = launch('0');
    assert.equal(zero.status, 0, zero.output);
    assert.match(zero.output, new RegExp(`main ${inherited}\\n`));
  });

  it('refuses a value that is not a whole number of nanoseconds, naming the variable', () => {
    for (const bad of ['1ms', '-5', '500000000', '5e5', ' ']) {
      const refused = launch(bad);
      assert.notEqual(refused.status, 0, `accepted ${JSON.stringify(bad)}`);
      assert.match(
        refused.output,
        /CASSANDRA_TIMER_SLACK_NS must be a whole number of nanoseconds/,
      );
      assert.doesNotMatch(refused.output, /main /, 'nothing is launched');
    }
  });

  it('the node the tests run against has the slack on every thread', () => {
    // Started by infra/up.sh of this checkout (npm run dev:up, or test/run.sh before the files).
    let pid: string;
    try {
      pid = readFileSync('.local/cassandra/cassandra.pid', 'utf8').trim();
    } catch {
      assert.fail(
        'no .local/cassandra/cassandra.pid: the Cassandra on 9042 was not started by this checkout',
      );
    }
    const configured = process.env['CASSANDRA_TIMER_SLACK_NS'] || DEFAULT_SLACK_NS;
    const expected = configured === '0' ? '50000' : configured;
    const slacks = threadSlacks(pid);
    assert.ok(slacks.length > 20, `only ${slacks.length} threads: is ${pid} the node?`);
    assert.deepEqual(new Set(slacks), new Set([expected]));
  });
});
