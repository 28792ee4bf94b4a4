/**
 * The baseline supergraph a proposal is compared with: a file (`--base-file`), or the committed
 * schema/supergraph.graphql at a git ref (`--base-ref`, default `main`). A ref that does not
 * exist (a fresh clone may only have one branch, a shallow CI checkout may lack the base) falls
 * back to the supergraph committed at HEAD, with a warning, so the check still runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { displayPath } from '../composition/compose.js';
import { SchemaCheckUsageError } from './errors.js';
import { REPO_ROOT, SUPERGRAPH_GIT_PATH, SUPERGRAPH_PATH } from './paths.js';

export interface Baseline {
  readonly sdl: string;
  /** What the baseline is, for reports: `main:schema/supergraph.graphql` or a path. */
  readonly source: string;
  readonly warnings: readonly string[];
}

export function readBaseline(options: { baseRef?: string; baseFile?: string }): Baseline {
  if (options.baseFile !== undefined) {
    const path = resolve(options.baseFile);
    if (!existsSync(path)) {
      throw new SchemaCheckUsageError(`--base-file ${options.baseFile} does not exist`);
    }
    return { sdl: readFileSync(path, 'utf8'), source: displayPath(path), warnings: [] };
  }
  const ref = options.baseRef ?? 'main';
  if (ref.startsWith('-')) throw new SchemaCheckUsageError(`--base-ref ${ref} is not a git ref`);
  const atRef = gitShow(ref);
  if (atRef !== undefined)
    return { sdl: atRef, source: `${ref}:${SUPERGRAPH_GIT_PATH}`, warnings: [] };
  const why = refExists(ref)
    ? `${SUPERGRAPH_GIT_PATH} does not exist at git ref '${ref}'`
    : `git ref '${ref}' does not exist`;
  const atHead = gitShow('HEAD');
  if (atHead !== undefined) {
    return {
      sdl: atHead,
      source: `HEAD:${SUPERGRAPH_GIT_PATH}`,
      warnings: [`${why}; comparing with the supergraph committed at HEAD instead`],
    };
  }
  if (!existsSync(SUPERGRAPH_PATH)) {
    throw new SchemaCheckUsageError(
      `${why}, and there is no ${SUPERGRAPH_GIT_PATH} to fall back to`,
    );
  }
  return {
    sdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    source: displayPath(SUPERGRAPH_PATH),
    warnings: [`${why}, and HEAD has no committed supergraph; comparing with the file on disk`],
  };
}

function git(args: readonly string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return undefined;
  }
}

function refExists(ref: string): boolean {
  return git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]) !== undefined;
}

/** The supergraph at a ref, or undefined when the ref or the file there does not exist. */
function gitShow(ref: string): string | undefined {
  if (!refExists(ref)) return undefined;
  // `./` makes the path relative to the project, wherever the git repository's root is.
  return git(['show', `${ref}:./${SUPERGRAPH_GIT_PATH}`]);
}
