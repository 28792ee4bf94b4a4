/**
 * A small, strict subset of `kustomize build`, in process, for test/unit/k8s-manifests.test.ts
 * (no kustomize binary or Kubernetes on the project's machines, and no maintained JavaScript
 * kustomize exists).
 *
 * @remarks
 * What deploy/k8s uses and nothing more: `resources` (files and kustomization directories),
 * `namespace`, `labels` (metadata labels only: `includeSelectors`/`includeTemplates` false),
 * `images` (`newName`, `newTag`), and `patches` — strategic-merge patches (maps merged, `null`
 * deletes a key, lists of named items merged by `name`, other lists replaced) matched by kind
 * and name, and JSON 6902 patches (`add`, `replace`, `remove`; `-` appends) applied to every
 * resource their `target` selects (kind, name, labelSelector `k=v[,k=v]`). A kustomization with
 * any other field fails the build, so that a manifest never relies on something this builder
 * silently ignores.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string; labels?: Record<string, string> };
}

interface Target {
  kind?: string;
  name?: string;
  labelSelector?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path: string; target?: Target }[];
}

const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'labels',
  'images',
  'patches',
]);

/** Kinds without a namespace (the ones deploy/k8s could hold). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'ClusterSecretStore',
]);

/** Every document of a YAML file (empty documents left out). */
export function readYamlDocuments(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((document) => {
    if (document.errors.length) throw new Error(`${file}: ${document.errors[0]!.message}`);
    const value = document.toJS() as Json;
    return value === null ? [] : [value];
  });
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `kustomize build <directory>`. */
export function kustomizeBuild(directory: string): Resource[] {
  const file = join(directory, 'kustomization.yaml');
  const [document] = readYamlDocuments(file);
  const kustomization = document as Kustomization;
  for (const field of Object.keys(kustomization))
    if (!KNOWN_FIELDS.has(field)) throw new Error(`${file}: unsupported field "${field}"`);

  let resources: Resource[] = (kustomization.resources ?? []).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return kustomizeBuild(path);
    return readYamlDocuments(path).map((value) => asResource(value, path));
  });

  for (const patch of kustomization.patches ?? []) {
    const path = join(directory, patch.path);
    const documents = readYamlDocuments(path);
    if (Array.isArray(documents[0])) {
      const operations = documents[0] as JsonObject[];
      const targets = resources.filter((resource) => matches(resource, patch.target ?? {}));
      if (!targets.length) throw new Error(`${path}: the target selects no resource`);
      resources = resources.map((resource) =>
        targets.includes(resource) ? applyJsonPatch(resource, operations, path) : resource,
      );
      continue;
    }
    for (const value of documents) {
      const smp = asResource(value, path);
      const index = resources.findIndex(
        (resource) => resource.kind === smp.kind && resource.metadata.name === smp.metadata.name,
      );
      if (index < 0) throw new Error(`${path}: no ${smp.kind} ${smp.metadata.name} to patch`);
      resources[index] = strategicMerge(resources[index]!, smp) as Resource;
    }
  }

  for (const { pairs } of kustomization.labels ?? [])
    for (const resource of resources)
      resource.metadata.labels = { ...resource.metadata.labels, ...pairs };

  for (const image of kustomization.images ?? [])
    for (const resource of resources)
      for (const container of containersOf(resource)) {
        const [name, tag] = splitImage(String(container['image']));
        if (name !== image.name) continue;
        container['image'] = `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}`;
      }

  if (kustomization.namespace)
    for (const resource of resources)
      if (!CLUSTER_SCOPED.has(resource.kind)) resource.metadata.namespace = kustomization.namespace;

  return resources;
}

function asResource(value: Json, file: string): Resource {
  if (
    !isObject(value) ||
    typeof value['apiVersion'] !== 'string' ||
    typeof value['kind'] !== 'string' ||
    !isObject(value['metadata']) ||
    typeof value['metadata']['name'] !== 'string'
  )
    throw new Error(`${file}: a document without apiVersion, kind and metadata.name`);
  return structuredClone(value) as Resource;
}

/** `nginx:1.27` → [nginx, 1.27]; a registry's port is not a tag. */
function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/')
    ? [image.slice(0, at), image.slice(at + 1)]
    : [image, undefined];
}

/** The pod spec of a Deployment, StatefulSet, DaemonSet, Job (or a Pod). */
export function podSpecOf(resource: Resource): JsonObject | undefined {
  if (resource.kind === 'Pod') return resource['spec'] as JsonObject;
  const template = (resource['spec'] as JsonObject | undefined)?.['template'];
  return isObject(template) && isObject(template['spec']) ? template['spec'] : undefined;
}

export function containersOf(resource: Resource): JsonObject[] {
  const spec = podSpecOf(resource);
  if (!spec) return [];
  return [
    ...((spec['initContainers'] ?? []) as JsonObject[]),
    ...(spec['containers'] as JsonObject[]),
  ];
}

function matches(resource: Resource, target: Target): boolean {
  if (target.kind && resource.kind !== target.kind) return false;
  if (target.name && resource.metadata.name !== target.name) return false;
  for (const pair of target.labelSelector?.split(',') ?? []) {
    const [key, value] = pair.split('=') as [string, string];
    if (resource.metadata.labels?.[key.trim()] !== value.trim()) return false;
  }
  return true;
}

/** Strategic merge as kustomize does it for the fields deploy/k8s patches. */
export function strategicMerge(base: Json, patch: Json): Json {
  if (isObject(base) && isObject(patch)) {
    const merged: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = key in base ? strategicMerge(base[key]!, value) : value;
    }
    return merged;
  }
  const named = (list: Json) =>
    Array.isArray(list) && list.every((item) => isObject(item) && typeof item['name'] === 'string');
  if (named(base) && named(patch)) {
    // As kustomize orders them: the patch's new items first, then the merged existing ones.
    const merged = [...(base as JsonObject[])];
    const added: JsonObject[] = [];
    for (const item of patch as JsonObject[]) {
      const index = merged.findIndex((existing) => existing['name'] === item['name']);
      if (index < 0) added.push(item);
      else merged[index] = strategicMerge(merged[index]!, item) as JsonObject;
    }
    return [...added, ...merged];
  }
  return patch;
}

/** RFC 6902 add/replace/remove with RFC 6901 paths, `-` appending to a list. */
function applyJsonPatch(resource: Resource, operations: JsonObject[], file: string): Resource {
  const result = structuredClone(resource);
  for (const operation of operations) {
    const op = operation['op'];
    const path = String(operation['path']);
    const keys = path
      .split('/')
      .slice(1)
      .map((key) => key.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = keys.pop();
    let parent: Json = result;
    for (const key of keys) {
      const next: Json | undefined = Array.isArray(parent)
        ? parent[Number(key)]
        : isObject(parent)
          ? parent[key]
          : undefined;
      if (next === undefined)
        throw new Error(`${file}: ${path} does not exist in ${resource.metadata.name}`);
      parent = next;
    }
    if (last === undefined) throw new Error(`${file}: empty path`);
    const value = structuredClone(operation['value'] ?? null);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op === 'add') parent.splice(index, 0, value);
      else if (op === 'replace') parent[index] = value;
      else if (op === 'remove') parent.splice(index, 1);
      else throw new Error(`${file}: unsupported op ${String(op)}`);
    } else if (isObject(parent)) {
      if ((op === 'replace' || op === 'remove') && !(last in parent))
        throw new Error(`${file}: ${path} does not exist in ${resource.metadata.name}`);
      if (op === 'add' || op === 'replace') parent[last] = value;
      else if (op === 'remove') delete parent[last];
      else throw new Error(`${file}: unsupported op ${String(op)}`);
    } else throw new Error(`${file}: ${path} does not exist in ${resource.metadata.name}`);
  }
  return result;
}
