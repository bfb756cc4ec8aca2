// The deployment files in deploy/: valid YAML, and the names they share with the code (the mode,
// its variables, its port and probe paths, the queue name and BullMQ's wait list) agree.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { listModes, probeTarget } from '../src/registry.js';
import { environmentVariables } from '../src/environment-variables.js';

const text = (path: string) => readFileSync(new URL(`../deploy/${path}`, import.meta.url), 'utf8');
const load = (path: string) => parse(text(path), { strict: true, uniqueKeys: true });
const loadAll = (path: string) => parseAllDocuments(text(path)).map((document) => document.toJS());
const compose = load('compose.yaml');
const worker = load('kubernetes/worker.yaml');
const scaledObject = load('kubernetes/keda-scaledobject.yaml');
const container = worker.spec.template.spec.containers[0];
const workerEnv: Record<string, string> = Object.fromEntries(container.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]));
const composeEnv: Record<string, string> = compose.services.worker.environment;
const gatewayEnv: Record<string, string> = compose.services.gateway.environment;
const [gatewayDeployment, gatewayService] = loadAll('kubernetes/gateway.yaml');
const gatewayContainer = gatewayDeployment.spec.template.spec.containers[0];
const gatewayK8sEnv: Record<string, string> = Object.fromEntries(
  gatewayContainer.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]),
);

describe('deploy/', () => {
  test('every variable the files set is one the runtime reads, and the mode is one it has', () => {
    for (const name of [...Object.keys(workerEnv), ...Object.keys(composeEnv), ...Object.keys(gatewayEnv), ...Object.keys(gatewayK8sEnv)])
      expect(Object.keys(environmentVariables)).toContain(name);
    const modes = listModes().map((mode) => mode.name);
    expect(modes).toContain(workerEnv.MODE);
    expect(modes).toContain(composeEnv.MODE);
    expect(workerEnv.MODE).toBe('queue');
    expect(composeEnv.REDIS_URL).toMatch(/^redis:\/\/redis:6379$/);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['redis', 'gateway', 'worker']));
  });

  test("the gateways (compose and Kubernetes) send to the queue the workers consume, and their probes are the HTTP mode's", () => {
    for (const env of [gatewayEnv, gatewayK8sEnv]) {
      expect(env.MODE).toBe('http');
      expect(env.QUEUE_BACKEND).toBe(composeEnv.REDIS_URL);
      expect(env.QUEUE_NAME).toBe(workerEnv.QUEUE_NAME);
    }
    const target = probeTarget('http', {})!;
    expect(compose.services.gateway.ports[0]).toBe(`127.0.0.1:${target.port}:${target.port}`);
    expect(gatewayContainer.ports[0].containerPort).toBe(target.port);
    expect(gatewayContainer.readinessProbe.httpGet.path).toBe(target.path);
    expect(gatewayService.kind).toBe('Service');
    expect(gatewayService.spec.selector).toEqual(gatewayDeployment.spec.template.metadata.labels);
    expect(gatewayService.spec.ports[0].targetPort).toBe(gatewayContainer.ports[0].name);
  });

  test("the probes and the port are the queue mode's", () => {
    const target = probeTarget('queue', {})!;
    expect(compose.services.worker.expose).toContain(String(target.port));
    expect(container.ports[0].containerPort).toBe(target.port);
    expect(container.readinessProbe.httpGet.path).toBe(target.path);
    expect(container.startupProbe.httpGet.path).toBe(target.path);
    expect(container.livenessProbe.httpGet.path).toBe('/health/live');
    expect(worker.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
  });

  test("KEDA scales the worker Deployment on its queue's BullMQ wait list", () => {
    expect(scaledObject.kind).toBe('ScaledObject');
    expect(scaledObject.spec.scaleTargetRef.name).toBe(worker.metadata.name);
    expect(worker.spec.selector.matchLabels).toEqual(worker.spec.template.metadata.labels);
    const [trigger] = scaledObject.spec.triggers;
    expect(trigger.type).toBe('redis');
    // BullMQ keeps the jobs that wait in the Redis list bull:<queue>:wait.
    expect(trigger.metadata.listName).toBe(`bull:${workerEnv.QUEUE_NAME}:wait`);
    expect(composeEnv.QUEUE_NAME).toBe(workerEnv.QUEUE_NAME);
    expect(Number(trigger.metadata.listLength)).toBeGreaterThan(0);
    // The drain on SIGTERM fits in the grace the pod gets.
    expect(Number(workerEnv.SHUTDOWN_TIMEOUT_MS) / 1000).toBeLessThan(worker.spec.template.spec.terminationGracePeriodSeconds);
  });
});
