/**
 * The deployable stack, checked as far as this machine can: no Docker engine, kubectl or
 * kubeconform here, so the YAML is parsed and its cross-references checked (probes on the
 * routes that exist, Secret keys that exist, the HPA's metric a name Skylark exports, the
 * ConfigMap's skylark.yaml valid for the config schema), and HAProxy checks its own config.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema } from '../src/config/config-schema.js';
import { SkylarkMetrics } from '../src/observability/metrics.js';
import { registerScrapeGauges } from '../src/observability/scrape-gauges.js';
import { repoRoot } from './support/paths.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const k8sDir = join(repoRoot, 'deploy/k8s');
const manifests: Doc[] = readdirSync(k8sDir)
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((name) => parseAllDocuments(readFileSync(join(k8sDir, name), 'utf8')).map((doc) => doc.toJS() as Doc));
const byKind = (kind: string) => manifests.filter((doc) => doc.kind === kind);
const named = (name: string) => manifests.find((doc) => doc.metadata?.name === name)!;
const one = (kind: string) => {
  const found = byKind(kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

/** Every metric name a gateway exports. */
function exportedNames(): Set<string> {
  const metrics = new SkylarkMetrics({ processMetrics: false });
  registerScrapeGauges(metrics, { queue: () => ({ at: 0, models: [] }), engines: () => [], ledgerQueue: () => 0 });
  return new Set(metrics.registry.getMetricsAsArray().map((metric) => metric.name));
}

describe('Kubernetes manifests', () => {
  it('every document has apiVersion, kind and a name', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(6);
    for (const doc of manifests) {
      expect(typeof doc.apiVersion, JSON.stringify(doc)).toBe('string');
      expect(typeof doc.kind).toBe('string');
      expect(doc.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('the Deployment runs non-root with readiness on /readyz, liveness on /healthz, and secrets from the Secret', () => {
    const deployment = one('Deployment');
    const pod = deployment.spec.template;
    expect(deployment.spec.selector.matchLabels).toEqual(pod.metadata.labels);
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    const container = pod.spec.containers[0];
    const port = (name: string) => container.ports.find((p: Doc) => p.name === name).containerPort;
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.args).toEqual(expect.arrayContaining(['--port', String(port('http')), '--metrics-port', String(port('metrics'))]));
    const secret = one('Secret');
    for (const env of container.env.filter((e: Doc) => e.valueFrom?.secretKeyRef)) {
      expect(env.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(env.valueFrom.secretKeyRef.key);
    }
    expect(container.env.map((e: Doc) => e.name)).toEqual(expect.arrayContaining(['SKYLARK_ADMIN_KEY', 'DATABASE_URL', 'REDIS_URL']));
    // Longer than the server's own drain, so SIGTERM can finish running generations.
    const config = configSchema.parse(parse(named('skylark-config').data['skylark.yaml']));
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.server.shutdownGraceMs);
    const mounted = container.volumeMounts.find((m: Doc) => m.name === 'config');
    expect(container.args[container.args.indexOf('--config') + 1]).toBe(`${mounted.mountPath}/skylark.yaml`);
  });

  it('the ConfigMap holds a skylark.yaml the config schema accepts, with a metrics port', () => {
    const config = configSchema.parse(parse(named('skylark-config').data['skylark.yaml']));
    expect(config.server.metricsPort).toBe(9464);
    expect(config.models[0]!.engine.length).toBeGreaterThan(1);
  });

  it('the Service selects the pods and the HPA scales the Deployment on an exported metric', () => {
    const deployment = one('Deployment');
    const service = one('Service');
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    const metric = hpa.spec.metrics[0];
    expect(metric.type).toBe('Pods');
    expect(exportedNames()).toContain(metric.pods.metric.name);
    const adapter = parse(named('adapter-config').data['config.yaml']);
    expect(adapter.rules[0].name.as).toBe(metric.pods.metric.name);
  });
});

describe('compose and the load balancer', () => {
  const compose = parse(readFileSync(join(repoRoot, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as Doc;

  it('has PostgreSQL, Redis, two gateways on both, and a load balancer in front of them', () => {
    const services = compose.services as Record<string, Doc>;
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'gateway-a', 'gateway-b', 'lb']));
    for (const name of ['gateway-a', 'gateway-b']) {
      const env = services[name]!.environment as Record<string, string>;
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(services[name]!.build.dockerfile).toBe('Dockerfile');
    }
    const lbConfig = readFileSync(join(repoRoot, 'deploy/haproxy.cfg'), 'utf8');
    expect(lbConfig).toMatch(/server gateway-a gateway-a:8080/);
    expect(lbConfig).toMatch(/server gateway-b gateway-b:8080/);
    expect(lbConfig).toMatch(/option httpchk GET \/readyz/);
    // The vLLM service is there, commented out.
    expect(readFileSync(join(repoRoot, 'deploy/compose.yaml'), 'utf8')).toMatch(/^ {2}# vllm:$/m);
  });

  it('haproxy -c accepts the load balancer config', () => {
    const haproxy = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
    const checked = spawnSync(haproxy, ['-c', '-f', join(repoRoot, 'deploy/haproxy.cfg')], { encoding: 'utf8' });
    expect(checked.error, 'haproxy is not installed (apt-get install haproxy)').toBeUndefined();
    expect(checked.status, checked.stderr + checked.stdout).toBe(0);
  });

  it('the vLLM example config is valid', () => {
    const config = configSchema.parse(parse(readFileSync(join(repoRoot, 'deploy/skylark.vllm.yaml'), 'utf8')));
    expect(config.models.find((model) => model.id === 'qwen-7b')!.engine).toEqual(['vllm-a', 'vllm-b']);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

  it('is multi-stage, runs as node from node:20-slim with only production dependencies, and checks /readyz', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => ({ image: m[1], name: m[2] }));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.at(-1)!.image).toBe('node:20-slim');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/readyz/m);
    expect(runtime).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(runtime).not.toMatch(/npm (ci|install)(?! --omit=dev)/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(existsSync(join(repoRoot, '.dockerignore'))).toBe(true);
  });
});
