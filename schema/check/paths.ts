/** The repository's schema paths, independent of the working directory the tools run from. */
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SUBGRAPHS_DIR = fileURLToPath(new URL('../subgraphs/', import.meta.url));
export const SUPERGRAPH_PATH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));
export const OPERATIONS_DIR = fileURLToPath(new URL('../operations/', import.meta.url));
export const APPROVALS_PATH = fileURLToPath(new URL('../approved-changes.json', import.meta.url));
/** The supergraph's path inside the repository, as `git show <ref>:<path>` wants it. */
export const SUPERGRAPH_GIT_PATH = 'schema/supergraph.graphql';
