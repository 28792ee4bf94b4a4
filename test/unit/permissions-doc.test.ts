import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PERMISSIONS_DOC, renderPermissionsMarkdown } from '../../scripts/permissions-doc.js';
import { PERMISSION_MATRIX, PERSONAS } from '../e2e/permission-matrix.js';

describe('docs/permissions.md', () => {
  it('when the permission matrix changes, then docs/permissions.md has been regenerated from it', () => {
    assert.equal(
      readFileSync(PERMISSIONS_DOC, 'utf8'),
      renderPermissionsMarkdown(),
      'docs/permissions.md is out of date: run npm run docs:permissions',
    );
  });

  it('when the matrix is read, then every row names an outcome for every persona', () => {
    for (const row of PERMISSION_MATRIX)
      assert.deepEqual(
        Object.keys(row.expect).sort(),
        PERSONAS.map((persona) => persona.key).sort(),
        row.subject,
      );
  });
});
