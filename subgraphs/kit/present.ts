/**
 * Loaded values that exist, from a loader's `loadMany`: `null` (absent, or another tenant's) is
 * left out, while a failed key fails the field instead of silently vanishing from the list.
 */
export function present<T>(values: readonly (T | null | Error)[]): T[] {
  const found: T[] = [];
  for (const value of values) {
    if (value instanceof Error) throw value;
    if (value !== null) found.push(value);
  }
  return found;
}
