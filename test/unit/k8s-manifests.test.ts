import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as prometheusOperator from '@kubernetes-models/prometheus-operator';
import * as models from 'kubernetes-models';
import {
  ALL_VARIABLES,
  loadRouterConfig,
  loadSubgraphConfig,
  loadToolConfig,
} from '../../platform/config/load.js';
import { PUBLISHED_SECRETS } from '../../platform/config/secrets.js';
import {
  containersOf,
  type JsonObject,
  kustomizeBuild,
  podSpecOf,
  readYamlDocuments,
  type Resource,
} from '../support/kustomize.js';

// No Kubernetes or kustomize binary on the project's machines: deploy/k8s is kept honest by
// building each overlay in process (test/support/kustomize.ts), validating every object against
// the Kubernetes API schemas (kubernetes-models; the Prometheus Operator's for ServiceMonitor),
// and checking what the manifests promise: probes, limits, who may reach what, and a
// configuration that platform/config accepts in the overlay's environment.

const ROOT = 'deploy/k8s';
const OVERLAYS = ['dev', 'production'] as const;
const SUBGRAPHS = ['users', 'sessions', 'fleet'] as const;
const SERVICES = ['router', ...SUBGRAPHS] as const;
/** What deploy/docker/entrypoint.sh starts: the labels of its `case` (`users | sessions | fleet)`). */
const ENTRYPOINT_COMMANDS = new Set(
  [...readFileSync('deploy/docker/entrypoint.sh', 'utf8').matchAll(/^\s*([a-z][a-z |-]*)\)/gm)]
    .flatMap((match) => match[1]!.split('|'))
    .map((label) => label.trim()),
);

type Env = { name: string; value?: string; valueFrom?: JsonObject };
type Probe = { httpGet?: { path: string; port: string | number } };
type Container = JsonObject & {
  name: string;
  image: string;
  args?: string[];
  env?: Env[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};

/** `apps/v1` → kubernetes-models' `apps.v1`; `networking.k8s.io/v1` → `networkingK8sIo.v1`. */
function modelOf(resource: Resource): (new (data: object) => { validate(): void }) | undefined {
  const [group, version] = resource.apiVersion.includes('/')
    ? (resource.apiVersion.split('/') as [string, string])
    : ['', resource.apiVersion];
  const key = group
    ? group.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase())
    : (version as string);
  const module = (
    group === 'monitoring.coreos.com'
      ? prometheusOperator
      : (models as unknown as Record<string, unknown>)
  ) as Record<string, Record<string, Record<string, unknown>>>;
  const versions = group ? module[key] : module;
  return versions?.[version as string]?.[resource.kind] as never;
}

const built = Object.fromEntries(
  OVERLAYS.map((overlay) => [overlay, kustomizeBuild(join(ROOT, 'overlays', overlay))]),
) as Record<(typeof OVERLAYS)[number], Resource[]>;

const ofKind = (resources: Resource[], kind: string) => resources.filter((r) => r.kind === kind);
const named = (resources: Resource[], kind: string, name: string) => {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};
const ourContainers = (resources: Resource[]) =>
  resources.flatMap((resource) =>
    (containersOf(resource) as Container[])
      .filter((container) => /(^|\/)fleetgraph:/.test(container.image))
      .map((container) => ({ resource, container })),
  );
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const podLabels = (resource: Resource) =>
  ((resource['spec'] as JsonObject)['template'] as { metadata: { labels: Record<string, string> } })
    .metadata.labels;
const configOf = (resources: Resource[]) =>
  named(resources, 'ConfigMap', 'fleetgraph-config')['data'] as Record<string, string>;

describe('deploy/k8s', () => {
  it('when every kustomization is read, then each resource it lists exists and parses', () => {
    for (const directory of ['base', 'overlays/dev', 'overlays/production']) {
      const [kustomization] = readYamlDocuments(join(ROOT, directory, 'kustomization.yaml')) as [
        { resources: string[]; patches?: { path: string }[] },
      ];
      for (const entry of [
        ...kustomization.resources,
        ...(kustomization.patches ?? []).map((p) => p.path),
      ]) {
        const path = join(ROOT, directory, entry);
        const listed = entry.startsWith('..')
          ? readdirSync(path).includes('kustomization.yaml')
          : readYamlDocuments(path).length > 0;
        assert.ok(listed, `${path} is listed but holds nothing`);
      }
    }
  });

  for (const overlay of OVERLAYS) {
    describe(`overlays/${overlay}`, () => {
      const resources = built[overlay];

      it('when built, then every object is valid against its Kubernetes API schema', () => {
        assert.ok(resources.length > 20, `only ${resources.length} objects`);
        const seen = new Set<string>();
        for (const resource of resources) {
          const id = `${resource.kind}/${resource.metadata.namespace ?? ''}/${resource.metadata.name}`;
          assert.ok(!seen.has(id), `${id} is defined twice`);
          seen.add(id);
          if (resource.kind === 'ExternalSecret') {
            // No published schema package for the External Secrets Operator: its shape, checked here.
            const spec = resource['spec'] as {
              secretStoreRef?: { name?: string; kind?: string };
              target?: { name?: string };
              data?: { secretKey: string; remoteRef: { key: string } }[];
            };
            assert.equal(resource.apiVersion, 'external-secrets.io/v1');
            assert.ok(
              spec.secretStoreRef?.name && spec.secretStoreRef.kind,
              `${id}: secretStoreRef`,
            );
            assert.ok(spec.target?.name, `${id}: target.name`);
            assert.ok(
              spec.data?.every((d) => d.secretKey && d.remoteRef.key),
              `${id}: data`,
            );
            continue;
          }
          const Model = modelOf(resource);
          assert.ok(Model, `${id}: no schema for ${resource.apiVersion} ${resource.kind}`);
          assert.doesNotThrow(() => new Model(resource).validate(), `${id} is invalid`);
          if (resource.kind !== 'Namespace')
            assert.equal(
              resource.metadata.namespace,
              overlay === 'dev' ? 'fleetgraph-dev' : 'fleetgraph',
            );
        }
      });

      it('when a service is deployed, then it runs the image with its entry point, probes and limits', () => {
        for (const name of SERVICES) {
          const deployment = named(resources, 'Deployment', name);
          const [container] = containersOf(deployment) as Container[];
          assert.ok(container);
          assert.match(container.image, /fleetgraph:[\w.-]+$/);
          assert.deepEqual(container.args, [name]);
          assert.ok(ENTRYPOINT_COMMANDS.has(name), `the entry point does not start ${name}`);
          const ports = new Set((container.ports ?? []).map((p) => p.name));
          // The router serves /readyz (supergraph loaded, every subgraph healthy); a subgraph
          // only /healthz (router/http/server.ts, subgraphs/kit/handleRequests.ts).
          assert.equal(
            container.readinessProbe?.httpGet?.path,
            name === 'router' ? '/readyz' : '/healthz',
          );
          assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
          for (const probe of [container.readinessProbe, container.livenessProbe])
            assert.ok(ports.has(String(probe?.httpGet?.port)), `${name}: probe on an unnamed port`);
          for (const bound of ['requests', 'limits'] as const)
            for (const resource of ['cpu', 'memory'])
              assert.ok(container.resources?.[bound]?.[resource], `${name}: ${bound}.${resource}`);
          const pod = podSpecOf(deployment) as { securityContext: { runAsNonRoot: boolean } };
          assert.equal(pod.securityContext.runAsNonRoot, true);
          assert.deepEqual(
            (container['securityContext'] as { capabilities: { drop: string[] } }).capabilities
              .drop,
            ['ALL'],
          );
        }
      });

      it('when a service, autoscaler, budget or monitor names a workload, then the workload exists', () => {
        const workloads = [...ofKind(resources, 'Deployment'), ...ofKind(resources, 'StatefulSet')];
        for (const service of ofKind(resources, 'Service')) {
          const spec = service['spec'] as {
            selector: Record<string, string>;
            ports: { targetPort: string }[];
          };
          const targets = workloads.filter((w) => labelsMatch(spec.selector, podLabels(w)));
          assert.equal(
            targets.length,
            1,
            `Service ${service.metadata.name} selects ${targets.length}`,
          );
          const names = containersOf(targets[0]!).flatMap((c) =>
            ((c as Container).ports ?? []).map((p) => p.name),
          );
          for (const port of spec.ports)
            assert.ok(
              names.includes(port.targetPort),
              `${service.metadata.name}: ${port.targetPort}`,
            );
        }
        const hpas = ofKind(resources, 'HorizontalPodAutoscaler');
        assert.deepEqual(hpas.map((h) => h.metadata.name).sort(), ['fleet', 'router']);
        for (const hpa of hpas) {
          const target = (hpa['spec'] as { scaleTargetRef: { kind: string; name: string } })
            .scaleTargetRef;
          named(resources, target.kind, target.name);
        }
        for (const name of SERVICES) {
          const budget = ofKind(resources, 'PodDisruptionBudget').find((pdb) =>
            labelsMatch(
              (pdb['spec'] as { selector: { matchLabels: Record<string, string> } }).selector
                .matchLabels,
              podLabels(named(resources, 'Deployment', name)),
            ),
          );
          assert.ok(budget, `no PodDisruptionBudget for ${name}`);
        }
        const monitors = ofKind(resources, 'ServiceMonitor');
        const routerMonitor = monitors.find((m) => m.metadata.name === 'router');
        assert.ok(routerMonitor);
        const monitorSpec = routerMonitor['spec'] as {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string; path: string }[];
        };
        const [opsService, ...more] = ofKind(resources, 'Service').filter((s) =>
          labelsMatch(monitorSpec.selector.matchLabels, s.metadata.labels),
        );
        assert.equal(more.length, 0);
        assert.ok(opsService, 'the router ServiceMonitor selects no Service');
        const opsPort = (
          opsService['spec'] as { ports: { name: string; port: number }[] }
        ).ports.find((p) => p.name === monitorSpec.endpoints[0]?.port);
        assert.equal(opsPort?.port, Number(configOf(resources)['ROUTER_OPS_PORT']));
        assert.equal(monitorSpec.endpoints[0]?.path, '/metrics');
      });

      it('when traffic arrives, then only the router public port is open to all, ops only to monitoring, subgraphs only to the router (and the scraper)', () => {
        const policies = ofKind(resources, 'NetworkPolicy').map(
          (p) =>
            p['spec'] as {
              podSelector: { matchLabels?: Record<string, string> };
              policyTypes: string[];
              ingress?: {
                from?: {
                  podSelector?: { matchLabels: Record<string, string> };
                  namespaceSelector?: { matchLabels: Record<string, string> };
                }[];
                ports?: { port: number }[];
              }[];
            },
        );
        assert.ok(
          policies.some(
            (p) => Object.keys(p.podSelector.matchLabels ?? {}).length === 0 && !p.ingress,
          ),
          'no default-deny ingress policy',
        );
        /** Who may reach `port` of pods labelled `labels`: 'anyone', 'pod:<name>', 'namespace:<name>'. */
        const peers = (labels: Record<string, string>, port: number) =>
          policies
            .filter((p) => labelsMatch(p.podSelector.matchLabels ?? {}, labels))
            .flatMap((p) => p.ingress ?? [])
            .filter((rule) => !rule.ports || rule.ports.some((p) => p.port === port))
            .flatMap((rule) =>
              rule.from
                ? rule.from.map((peer) =>
                    peer.namespaceSelector
                      ? `namespace:${peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']}`
                      : `pod:${peer.podSelector?.matchLabels['app.kubernetes.io/name']}`,
                  )
                : ['anyone'],
            );
        const config = configOf(resources);
        const router = podLabels(named(resources, 'Deployment', 'router'));
        assert.deepEqual(peers(router, Number(config['ROUTER_PORT'])), ['anyone']);
        assert.deepEqual(peers(router, Number(config['ROUTER_OPS_PORT'])), [
          'namespace:monitoring',
        ]);
        for (const name of SUBGRAPHS) {
          const port = Number(config[`${name.toUpperCase()}_PORT`]);
          assert.deepEqual(
            [...new Set(peers(podLabels(named(resources, 'Deployment', name)), port))].sort(),
            ['namespace:monitoring', 'pod:router'],
            name,
          );
        }
      });

      it('when a container of ours sets a variable, then the configuration module knows it, and its secrets come from Secret references', () => {
        const config = configOf(resources);
        for (const key of Object.keys(config))
          assert.ok(
            ALL_VARIABLES.includes(key),
            `ConfigMap: ${key} is not a configuration variable`,
          );
        const secrets = new Map<string, Set<string>>();
        for (const secret of ofKind(resources, 'Secret'))
          secrets.set(
            secret.metadata.name,
            new Set(Object.keys((secret['stringData'] ?? secret['data'] ?? {}) as object)),
          );
        for (const external of ofKind(resources, 'ExternalSecret')) {
          const spec = external['spec'] as {
            target: { name: string };
            data: { secretKey: string }[];
          };
          secrets.set(spec.target.name, new Set(spec.data.map((d) => d.secretKey)));
        }
        const containers = ourContainers(resources);
        assert.ok(containers.length >= 5);
        for (const { resource, container } of containers) {
          const where = `${resource.kind} ${resource.metadata.name}`;
          for (const source of container.envFrom ?? []) {
            assert.ok(source.configMapRef, `${where}: envFrom only from the ConfigMap`);
            named(resources, 'ConfigMap', source.configMapRef.name);
          }
          for (const env of container.env ?? []) {
            assert.ok(ALL_VARIABLES.includes(env.name), `${where}: ${env.name} is unknown`);
            if (/SECRET|TOKEN|PASSWORD|REDIS_URL/.test(env.name) && overlay === 'production')
              assert.equal(env.value, undefined, `${where}: ${env.name} must come from a Secret`);
            const ref = env.valueFrom?.['secretKeyRef'] as
              { name: string; key: string } | undefined;
            if (ref)
              assert.ok(
                secrets.get(ref.name)?.has(ref.key),
                `${where}: ${env.name} refers to a missing ${ref.name}/${ref.key}`,
              );
          }
        }
      });

      it('when its processes load their configuration from the manifests, then platform/config accepts it', () => {
        const config = configOf(resources);
        const caFile = join(mkdtempSync(join(tmpdir(), 'fleetgraph-k8s-')), 'ca.crt');
        writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
        // Secrets as the Secret holds them (dev) or as an operator would generate them (production).
        const secretValues = new Map<string, string>();
        for (const secret of ofKind(resources, 'Secret'))
          for (const [key, value] of Object.entries(
            (secret['stringData'] ?? {}) as Record<string, string>,
          ))
            secretValues.set(key, value);
        const valueOf = (key: string) =>
          secretValues.get(key) ??
          (key === 'REDIS_URL'
            ? 'rediss://:password@redis.example.internal:6380'
            : randomBytes(32).toString('base64url'));
        for (const { resource, container } of ourContainers(resources)) {
          const env: Record<string, string> = { ...config };
          for (const variable of container.env ?? []) {
            const ref = variable.valueFrom?.['secretKeyRef'] as { key: string } | undefined;
            env[variable.name] = variable.value ?? (ref ? valueOf(ref.key) : '');
          }
          if (env['CASSANDRA_TLS_CA_FILE']) env['CASSANDRA_TLS_CA_FILE'] = caFile;
          const [service] = container.args ?? [];
          const where = `${resource.kind} ${resource.metadata.name}`;
          assert.doesNotThrow(() => {
            if (service === 'router') loadRouterConfig(env);
            else if (SUBGRAPHS.includes(service as never))
              loadSubgraphConfig(service as 'users', env);
            else loadToolConfig(env);
          }, `${where} is refused`);
        }
      });
    });
  }

  // The in-process builder (test/support/kustomize.ts) was compared with the real one
  // (sigs.k8s.io/kustomize/api v0.21.2 building both overlays): the same objects, in the same
  // order. That comparison is not part of the suite: a kustomize binary is not on a fresh
  // machine, and a test that skips where it is missing proves nothing there. To repeat it:
  // `kustomize build deploy/k8s/overlays/<overlay>` and compare with the objects built here.

  it('when the migration job runs, then production migrates only and dev also loads the demo seed', () => {
    const args = (overlay: (typeof OVERLAYS)[number]) =>
      (containersOf(named(built[overlay], 'Job', 'fleetgraph-migrate'))[0] as Container).args;
    assert.deepEqual(args('production'), ['migrate']);
    assert.deepEqual(args('dev'), ['setup']);
    for (const job of ['migrate', 'setup']) assert.ok(ENTRYPOINT_COMMANDS.has(job), job);
  });

  it('when production is built, then it runs FLEETGRAPH_ENV=production with a JWKS, issuer and audience, no HS256 secret and no Secret values', () => {
    const resources = built.production;
    const config = configOf(resources);
    assert.equal(config['FLEETGRAPH_ENV'], 'production');
    assert.match(config['JWT_JWKS_URL'] ?? '', /^https:\/\//);
    assert.ok(config['JWT_ISSUER']);
    assert.ok(config['JWT_AUDIENCE']);
    assert.equal(ofKind(resources, 'Secret').length, 0, 'production takes its Secret from a store');
    assert.ok(ofKind(resources, 'ExternalSecret').length > 0);
    for (const { container } of ourContainers(resources))
      assert.ok(!(container.env ?? []).some((env) => env.name === 'JWT_SECRET'));
    const secretRefs = (name: string) =>
      ourContainers(resources)
        .filter(({ container }) => (container.args ?? [])[0] === name)
        .flatMap(({ container }) =>
          (container.env ?? []).filter((e) => e.valueFrom?.['secretKeyRef']).map((e) => e.name),
        );
    assert.deepEqual(secretRefs('router').sort(), [
      'CASSANDRA_PASSWORD',
      'CASSANDRA_USERNAME',
      'IDENTITY_SIGNING_SECRET',
      'OPERATOR_TOKEN',
      'REDIS_URL',
    ]);
    for (const name of SUBGRAPHS)
      assert.deepEqual(secretRefs(name).sort(), [
        'CASSANDRA_PASSWORD',
        'CASSANDRA_USERNAME',
        'CURSOR_SIGNING_SECRET',
        'IDENTITY_SIGNING_SECRET',
        // The fleet subgraph's change events go to the router's Redis.
        ...(name === 'fleet' ? ['REDIS_URL'] : []),
      ]);
  });

  it('when dev holds secret values, then they are published placeholders that production refuses', () => {
    const values = ofKind(built.dev, 'Secret').flatMap((secret) =>
      Object.values((secret['stringData'] ?? {}) as Record<string, string>),
    );
    assert.ok(values.length >= 4);
    for (const value of values) assert.ok(PUBLISHED_SECRETS.includes(value));
    assert.equal(configOf(built.dev)['FLEETGRAPH_ENV'], 'development');
  });
});
