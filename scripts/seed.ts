/**
 * `npm run db:seed [-- --scale tiny|demo|large] [--if-empty]`: loads a deterministic data set.
 *
 * @remarks
 * Ids derive from (kind, index) through SHA-256, so every run of one scale writes the same
 * entities (upserts: a re-run changes nothing but timestamps). Timestamps are relative to the
 * start of the current UTC day, because telemetry and sessions expire by TTL.
 * The well-known development identities (see DEMO_USERS) are the same at every scale.
 *
 * Rows are written with prepared statements through cassandra-driver's executeConcurrent at a
 * bounded concurrency (SEED_CONCURRENCY, default 128), with a progress bar on a terminal and a
 * line per 10% otherwise, and a final rows/s figure.
 */
import { createHash } from 'node:crypto';
import cassandra from 'cassandra-driver';
import cliProgress from 'cli-progress';
import { loadToolConfig } from '../platform/config/load.js';
import {
  type CassandraClient,
  connectCassandra,
  WRITE_PROFILE,
} from '../platform/cassandra/client.js';
import { bucketOf, utcDay } from '../platform/cassandra/buckets.js';
import { runMain, StartupError } from '../platform/startup.js';
import { activeRowWriteTime } from '../subgraphs/sessions/activeSessions.js';
import { SCALES, type SeedScale, seedIds } from './seed-ids.js';

const { TimeUuid } = cassandra.types;

const USAGE = `npm run db:seed -- [--scale tiny|demo|large] [--if-empty]
  --scale     the data set (default: SEED_SCALE, else demo)
  --if-empty  do nothing when the scale is already loaded (and its sessions have not expired)
Writes into CASSANDRA_KEYSPACE (default fleetgraph); a re-run rewrites the same rows.`;

/** Refuses what it does not know before anything is written (`--help` used to seed). */
function checkArguments(): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--scale') i++;
    else if (args[i] !== '--if-empty')
      throw new StartupError(`db:seed: unknown argument "${args[i]}"\n\n${USAGE}`);
  }
}

function argScale(): SeedScale {
  const index = process.argv.indexOf('--scale');
  const name = index >= 0 ? process.argv[index + 1] : (process.env.SEED_SCALE ?? 'demo');
  if (name !== 'demo' && name !== 'large' && name !== 'tiny') {
    throw new StartupError(`--scale (or SEED_SCALE) must be tiny, demo or large (got "${name}")`);
  }
  return name;
}

/** Deterministic pseudo-random numbers (mulberry32) from a string seed. */
function random(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'] as const;
const MODELS = ['AMR-200', 'AMR-500', 'Picker-X', 'Tugger-3'];

interface Batch {
  readonly cql: string;
  readonly rows: unknown[][];
  /** How many leading parameters form the partition key; rows sharing one go in one batch. */
  readonly partitionArity: number;
}

runMain(async () => {
  checkArguments();
  const config = loadToolConfig();
  const scale = argScale();
  const shape = SCALES[scale];
  const concurrencyLevel = Number(process.env.SEED_CONCURRENCY ?? 128);
  const ks = config.cassandra.keyspace;
  const day0 = new Date(`${utcDay(new Date())}T00:00:00.000Z`).getTime();
  const rnd = random(`fleetgraph-${scale}`);
  const ids = seedIds;

  const batches: Batch[] = [];
  const table = (cql: string, partitionArity = 0): unknown[][] => {
    const rows: unknown[][] = [];
    batches.push({ cql: cql.replace(/\{ks\}/g, ks), rows, partitionArity });
    return rows;
  };
  const orgRows = table(
    'INSERT INTO {ks}.organizations (organization_id, name, created_at) VALUES (?, ?, ?)',
  );
  const userRows = table(
    'INSERT INTO {ks}.users_by_id (user_id, organization_id, email, display_name, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const userOrgRows = table(
    'INSERT INTO {ks}.users_by_organization (organization_id, bucket, user_id) VALUES (?, ?, ?)',
    2,
  );
  const emailRows = table(
    'INSERT INTO {ks}.users_by_organization_email (organization_id, email, user_id) VALUES (?, ?, ?)',
  );
  const fleetRows = table(
    'INSERT INTO {ks}.fleets_by_id (fleet_id, organization_id, name, site, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const fleetOrgRows = table(
    'INSERT INTO {ks}.fleets_by_organization (organization_id, fleet_id, name) VALUES (?, ?, ?)',
    1,
  );
  const robotRows = table(
    `INSERT INTO {ks}.robots_by_id (robot_id, organization_id, fleet_id, serial, model, status, battery_percent, firmware,
       last_heartbeat_at, latitude, longitude, heading, operator_id, current_mission_id, registered_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const robotPageRows = table(
    `INSERT INTO {ks}.robots_by_fleet_page (fleet_id, robot_id, organization_id, serial, model, status, battery_percent,
       firmware, last_heartbeat_at, latitude, longitude, heading, operator_id, current_mission_id, current_mission_status,
       registered_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    1,
  );
  const robotFleetRows = table(
    'INSERT INTO {ks}.robots_by_fleet (fleet_id, bucket, robot_id) VALUES (?, ?, ?)',
    2,
  );
  const robotStatusRows = table(
    'INSERT INTO {ks}.robots_by_fleet_status (fleet_id, status, bucket, robot_id) VALUES (?, ?, ?, ?)',
    3,
  );
  const serialRows = table(
    'INSERT INTO {ks}.robots_by_organization_serial (organization_id, serial, robot_id) VALUES (?, ?, ?)',
  );
  const operatorRows = table(
    'INSERT INTO {ks}.robots_by_operator (operator_id, robot_id) VALUES (?, ?)',
    1,
  );
  const missionRows = table(
    `INSERT INTO {ks}.missions_by_id (mission_id, robot_id, organization_id, status, created_by, created_at, completed_at, steps)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const missionRobotRows = table(
    'INSERT INTO {ks}.missions_by_robot (robot_id, year, mission_id, status) VALUES (?, ?, ?, ?)',
    2,
  );
  const sessionRows = table(
    `INSERT INTO {ks}.sessions_by_id (session_id, user_id, organization_id, created_at, expires_at, last_seen_at, client_name, user_agent, ip_address)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
  );
  const sessionUserRows = table(
    `INSERT INTO {ks}.sessions_by_user (user_id, created_at, session_id, expires_at, last_seen_at, client_name, user_agent, ip_address)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?`,
  );
  // User.activeSessionCount reads these (009): one row per active session, written at the
  // session's start time as startSession and the backfill write it (activeRowWriteTime), so a
  // re-seed never brings back a session a test revoked since.
  const activeSessionRows = table(
    `INSERT INTO {ks}.active_sessions_by_user (user_id, expires_at, session_id, organization_id)
     VALUES (?, ?, ?, ?) USING TTL ? AND TIMESTAMP ?`,
  );
  const telemetryRows = table(
    `INSERT INTO {ks}.telemetry_by_robot_day (robot_id, day, recorded_at, battery_percent, latitude, longitude, speed_mps, temperature_c, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    2,
  );

  for (let o = 0; o < shape.organizations; o++) {
    const orgId = ids.organization(o);
    orgRows.push([
      orgId,
      o === 0 ? 'Acme Robotics' : o === 1 ? 'Globex Logistics' : `Organization ${o}`,
      new Date(day0 - 400 * 86_400_000),
    ]);
    const userIds: string[] = [];
    for (let u = 0; u < shape.usersPerOrganization; u++) {
      const userId = ids.user(o, u);
      userIds.push(userId);
      const role = u === 0 ? 'admin' : u % 3 === 1 ? 'operator' : 'viewer';
      const roles =
        role === 'admin'
          ? ['admin', 'operator', 'viewer']
          : role === 'operator'
            ? ['operator', 'viewer']
            : ['viewer'];
      const email = `${role}${u}@org${o}.example.com`;
      const createdAt = new Date(day0 - (300 - u) * 86_400_000);
      userRows.push([
        userId,
        orgId,
        email,
        `${role[0]!.toUpperCase()}${role.slice(1)} ${o}.${u}`,
        roles,
        createdAt,
        createdAt,
      ]);
      userOrgRows.push([orgId, bucketOf(userId), userId]);
      emailRows.push([orgId, email, userId]);
      for (let s = 0; s < shape.sessionsPerUser; s++) {
        const createdAtSession = new Date(day0 - s * 3_600_000);
        const expiresAt = new Date(createdAtSession.getTime() + 7 * 86_400_000);
        const ttl = Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
        const sessionId = ids.session(o, u, s);
        const client = ['web', 'ios', 'android'][s % 3]!;
        sessionRows.push([
          sessionId,
          userId,
          orgId,
          createdAtSession,
          expiresAt,
          createdAtSession,
          client,
          `fleetgraph-${client}/1.0`,
          `10.0.${o}.${u % 250}`,
          ttl,
        ]);
        sessionUserRows.push([
          userId,
          createdAtSession,
          sessionId,
          expiresAt,
          createdAtSession,
          client,
          `fleetgraph-${client}/1.0`,
          `10.0.${o}.${u % 250}`,
          ttl,
        ]);
        activeSessionRows.push([
          userId,
          expiresAt,
          sessionId,
          orgId,
          ttl,
          activeRowWriteTime({ createdAt: createdAtSession }),
        ]);
      }
    }
    const operators = userIds.filter((_, u) => u % 3 === 1 || u === 0);
    for (let f = 0; f < shape.fleetsPerOrganization; f++) {
      const fleetId = ids.fleet(o, f);
      const fleetName = `Site ${String.fromCharCode(65 + (f % 26))}${f >= 26 ? f : ''}`;
      fleetRows.push([
        fleetId,
        orgId,
        fleetName,
        `Warehouse ${o}-${f}`,
        'Europe/Berlin',
        new Date(day0 - 200 * 86_400_000),
      ]);
      fleetOrgRows.push([orgId, fleetId, fleetName]);
      for (let r = 0; r < shape.robotsPerFleet; r++) {
        const robotId = ids.robot(o, f, r);
        const status = STATUSES[Math.floor(rnd() * STATUSES.length)]!;
        const operatorId = operators[r % operators.length]!;
        const registeredAt = new Date(day0 - 100 * 86_400_000);
        const serial = `SN-${o}-${f}-${String(r).padStart(6, '0')}`;
        let currentMission: string | null = null;
        for (let m = 0; m < shape.missionsPerRobot; m++) {
          const createdAt = new Date(day0 - (m + 1) * 86_400_000 + r * 1000);
          const missionId = TimeUuid.fromDate(
            createdAt,
            0,
            ids.node(o, f, r),
            ids.clock(m),
          ).toString();
          const isCurrent = m === 0 && status === 'ACTIVE';
          const missionStatus = isCurrent ? 'IN_PROGRESS' : 'COMPLETED';
          if (isCurrent) currentMission = missionId;
          missionRows.push([
            missionId,
            robotId,
            orgId,
            missionStatus,
            operatorId,
            createdAt,
            isCurrent ? null : new Date(createdAt.getTime() + 3_600_000),
            [`pick aisle ${m}`, `drop dock ${r % 7}`],
          ]);
          missionRobotRows.push([robotId, createdAt.getUTCFullYear(), missionId, missionStatus]);
        }
        const battery = Math.round(rnd() * 1000) / 10;
        const robot = [
          robotId,
          orgId,
          fleetId,
          serial,
          MODELS[r % MODELS.length],
          status,
          battery,
          `v${1 + (r % 3)}.${r % 10}.0`,
          new Date(day0 - 60_000),
          52.5 + rnd() / 100,
          13.4 + rnd() / 100,
          rnd() * 360,
          operatorId,
          currentMission,
          registeredAt,
        ];
        robotRows.push(robot);
        robotPageRows.push([
          fleetId,
          robotId,
          ...robot.slice(1, 2),
          ...robot.slice(3, 14),
          currentMission ? 'IN_PROGRESS' : null,
          registeredAt,
        ]);
        robotFleetRows.push([fleetId, bucketOf(robotId), robotId]);
        robotStatusRows.push([fleetId, status, bucketOf(robotId), robotId]);
        serialRows.push([orgId, serial, robotId]);
        operatorRows.push([operatorId, robotId]);
        // Telemetry spread over the last `telemetryDays` UTC days, newest at day0 - 1 min.
        for (let t = 0; t < shape.telemetryPerRobot; t++) {
          const at = new Date(
            day0 -
              60_000 -
              t * Math.floor((shape.telemetryDays * 86_400_000) / shape.telemetryPerRobot),
          );
          telemetryRows.push([
            robotId,
            utcDay(at),
            at,
            Math.max(0, battery - t * 0.1),
            52.5 + rnd() / 100,
            13.4 + rnd() / 100,
            rnd() * 2,
            20 + rnd() * 15,
            status,
          ]);
        }
      }
    }
  }

  // robots_by_id goes last: its final row is the "this scale is complete" marker for --if-empty.
  batches.push(
    ...batches.splice(
      batches.findIndex((b) => b.rows === robotRows),
      1,
    ),
  );

  const client = await connectCassandra(config);
  if (process.argv.includes('--if-empty')) {
    // The last robot written is the marker that this scale was loaded completely.
    const o = shape.organizations - 1;
    const marker = await client.execute('SELECT robot_id FROM robots_by_id WHERE robot_id = ?', [
      ids.robot(o, shape.fleetsPerOrganization - 1, shape.robotsPerFleet - 1),
    ]);
    // Sessions expire (TTL 7 days), robots do not: a long-lived dev node needs its sessions
    // re-seeded even when the rest is there.
    const session = await client.execute(
      'SELECT session_id FROM sessions_by_id WHERE session_id = ?',
      [ids.session(0, 0, 0)],
    );
    if (marker.rowLength > 0 && session.rowLength > 0) {
      console.log(`[seed] scale ${scale} is already loaded in keyspace ${ks}; nothing to do`);
      await client.shutdown();
      return;
    }
  }
  const total = batches.reduce((sum, b) => sum + b.rows.length, 0);
  console.log(
    `[seed] scale ${scale}: ${total.toLocaleString('en')} rows into keyspace ${ks} (concurrency ${concurrencyLevel})`,
  );
  const bar = process.stdout.isTTY
    ? new cliProgress.SingleBar(
        { format: '[seed] {bar} {percentage}% | {value}/{total} rows | {rps} rows/s' },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { rps: 0 });
  const started = performance.now();
  let done = 0;
  let nextReport = 0.1;
  try {
    for (const batch of batches) {
      // Chunks keep memory bounded and let the progress bar move; each chunk runs at the cap.
      for (let i = 0; i < batch.rows.length; i += 5000) {
        const chunk = batch.rows.slice(i, i + 5000);
        if (batch.partitionArity > 0) {
          await writePartitionBatches(client, batch, chunk, concurrencyLevel);
        } else {
          await cassandra.concurrent.executeConcurrent(client, batch.cql, chunk, {
            concurrencyLevel,
            executionProfile: WRITE_PROFILE,
          });
        }
        done += chunk.length;
        const rps = Math.round(done / ((performance.now() - started) / 1000));
        bar?.update(done, { rps });
        if (!bar && done / total >= nextReport) {
          console.log(
            `[seed] ${Math.floor((done / total) * 100)}% (${done.toLocaleString('en')} rows, ${rps.toLocaleString('en')} rows/s)`,
          );
          nextReport += 0.1;
        }
      }
    }
  } catch (error) {
    throw new StartupError(`seed failed after ${done} rows: ${(error as Error).message}`);
  } finally {
    bar?.stop();
    await client.shutdown();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `[seed] loaded ${total.toLocaleString('en')} rows in ${seconds.toFixed(1)}s: ${Math.round(total / seconds).toLocaleString('en')} rows/s ` +
      `(write consistency ${config.cassandra.writeConsistency})`,
  );
});

/**
 * Rows of one partition go to Cassandra as one unlogged batch (one mutation, one replica set):
 * the cheap use of batches. Batches across partitions would only load the coordinator.
 */
async function writePartitionBatches(
  client: CassandraClient,
  batch: Batch,
  rows: unknown[][],
  concurrencyLevel: number,
): Promise<void> {
  const groups = new Map<string, unknown[][]>();
  for (const row of rows) {
    const key = row.slice(0, batch.partitionArity).map(String).join('|');
    const group = groups.get(key) ?? [];
    if (group.length === 0) groups.set(key, group);
    group.push(row);
  }
  const statements: { query: string; params: unknown[] }[][] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += 100) {
      statements.push(group.slice(i, i + 100).map((params) => ({ query: batch.cql, params })));
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < statements.length) {
      const queries = statements[next++]!;
      await client.batch(queries, {
        prepare: true,
        logged: false,
        executionProfile: WRITE_PROFILE,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrencyLevel, 32) }, worker));
}
