/**
 * `npm run schema:codegen`: writes schema/operations/generated/operations.ts, the TypeScript
 * types of the registered client operations (schema/codegen/operationTypes.ts). Run it after
 * `npm run schema:compose` (it reads schema/api-schema.graphql) or after adding an operation.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { writeIfChanged } from '../schema/composition/files.js';
import {
  GENERATED_OPERATIONS_FILE,
  generateOperationTypes,
} from '../schema/codegen/operationTypes.js';

const text = await generateOperationTypes();
mkdirSync(dirname(fileURLToPath(GENERATED_OPERATIONS_FILE)), { recursive: true });
const file = writeIfChanged(GENERATED_OPERATIONS_FILE, text);
console.log(
  `[codegen] operation types -> ${file.path} (${file.written ? 'written' : 'unchanged'})`,
);
