import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
const pid = Number(process.argv[2]);
const token = process.argv[3]!;
const robots = process.argv.slice(4);
const cpu = (p: number) => { const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const pids: Record<string, number> = { cassandra: pid };
for (const [name, pat] of [['router', 'dist/router/index.js'], ['fleet', 'dist/subgraphs/fleet'], ['sessions', 'dist/subgraphs/sessions'], ['users', 'dist/subgraphs/users'], ['redis', 'redis-server 127.0.0.1:6379']] as const)
  pids[name] = Number(execSync(`pgrep -f '${pat}' | head -1`).toString().trim());
const metrics = async () => (await (await fetch('http://127.0.0.1:4003/metrics')).text()).split('\n').filter((l) => l.startsWith('fleetgraph_cassandra_statements_total')).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
const snap = () => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpu(p)]));
const N = 500;
const m0 = await metrics(); const c0 = snap(); const t0 = performance.now();
let inflight: Promise<unknown>[] = [];
for (let i = 0; i < N; i++) {
  const robot = robots[i % robots.length];
  inflight.push(fetch('http://127.0.0.1:4000/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: 'mutation($id: ID!, $s: RobotStatus!, $b: Float) { updateRobotStatus(robotId: $id, status: $s, batteryPercent: $b) { id status batteryPercent } }', variables: { id: robot, s: ['ACTIVE', 'IDLE', 'CHARGING'][i % 3], b: (i % 100) } }) }).then((r) => r.json()).then((j: any) => { if (j.errors) console.log(JSON.stringify(j.errors)); }));
  await new Promise((r) => setTimeout(r, 20));
}
await Promise.all(inflight);
const c1 = snap(); const m1 = await metrics();
console.log(`writes ${N} in ${((performance.now() - t0) / 1000).toFixed(1)} s; fleet statements/write ${((m1 - m0) / N).toFixed(2)}`);
for (const k of Object.keys(pids)) console.log(`${k}: ${((c1[k]! - c0[k]!) / N).toFixed(2)} CPU ms/write`);
