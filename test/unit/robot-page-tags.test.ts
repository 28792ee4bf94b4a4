/**
 * Entity tags of robots_by_fleet_page (migration 008, docs/caching.md): a read is tagged with the
 * fleet and every robot (and current mission) it returned; an UPDATE of a row with its robot; an
 * INSERT or DELETE with the fleet.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  extractorFor,
  recordRowTags,
  recordTags,
  requestTags,
  type RequestTags,
} from '../../subgraphs/kit/cassandra/entityTags.js';

const FLEET = '6f1f7c9e-9a56-4d7c-9a51-1c0ffee00001';
const ROBOT = '6f1f7c9e-9a56-4d7c-9a51-1c0ffee00002';
const MISSION = '0b7e6c40-3a4f-11ef-8000-000000000001';
const TABLE = 'robots_by_fleet_page';

function tagsOf(run: () => void): RequestTags {
  const tags: RequestTags = { reads: new Set(), writes: new Set() };
  requestTags.run(tags, run);
  return tags;
}

describe('robots_by_fleet_page entity tags', () => {
  it('when a page is read, then the fleet and each returned robot and current mission are read tags', () => {
    const tags = tagsOf(() => {
      recordTags(extractorFor(`SELECT robot_id FROM ${TABLE} WHERE fleet_id = ?`, TABLE), [FLEET]);
      recordRowTags(TABLE, [
        { robot_id: ROBOT, current_mission_id: MISSION },
        { robot_id: FLEET.replace('1c0ffee00001', '1c0ffee00003'), current_mission_id: null },
      ]);
    });
    assert.deepEqual(
      [...tags.reads].sort(),
      [
        `Fleet:${FLEET}`,
        `Mission:${MISSION}`,
        `Robot:${ROBOT}`,
        `Robot:${FLEET.replace('1c0ffee00001', '1c0ffee00003')}`,
      ].sort(),
    );
    assert.equal(tags.writes.size, 0);
  });

  it("when a row's columns are updated, then only its robot is a write tag, not the fleet", () => {
    const tags = tagsOf(() =>
      recordTags(
        extractorFor(
          `UPDATE ${TABLE} SET status = ?, battery_percent = ? WHERE fleet_id = ? AND robot_id = ?`,
          TABLE,
        ),
        ['IDLE', 50, FLEET, ROBOT],
      ),
    );
    assert.deepEqual([...tags.writes], [`Robot:${ROBOT}`]);
  });

  it('when a row is inserted or deleted, then the fleet is a write tag: the listing changed', () => {
    const tags = tagsOf(() => {
      recordTags(
        extractorFor(`INSERT INTO ${TABLE} (fleet_id, robot_id, serial) VALUES (?, ?, ?)`, TABLE),
        [FLEET, ROBOT, 'SN-1'],
      );
      recordTags(extractorFor(`DELETE FROM ${TABLE} WHERE fleet_id = ? AND robot_id = ?`, TABLE), [
        FLEET,
        ROBOT,
      ]);
    });
    assert.deepEqual([...tags.writes], [`Fleet:${FLEET}`]);
  });

  it('when another table is updated, then its partition is still the tag', () => {
    const tags = tagsOf(() =>
      recordTags(
        extractorFor('UPDATE robots_by_id SET status = ? WHERE robot_id = ?', 'robots_by_id'),
        ['IDLE', ROBOT],
      ),
    );
    assert.deepEqual([...tags.writes], [`Robot:${ROBOT}`]);
  });
});
