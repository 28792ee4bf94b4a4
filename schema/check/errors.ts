/** A mistake in how the check was called (bad flag, missing file): the CLI exits 64 (EX_USAGE). */
export class SchemaCheckUsageError extends Error {
  override readonly name = 'SchemaCheckUsageError';
}
