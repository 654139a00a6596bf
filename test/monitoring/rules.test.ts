import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { startHealthServer } from '../../src/observability/health.ts';
import { createMetricsRegistry, runtimeMetrics } from '../../src/observability/metrics.ts';
import { prometheus, prometheusUrl } from '../../src/stack/components/prometheus.ts';
import { createStackContext, REPO_DIR } from '../../src/stack/context.ts';
import { eventually } from '../support/eventually.ts';

// promtool and prometheus come from Debian's `prometheus` package (.ci/run installs it): a missing
// one fails here rather than skipping, so the rules are never shipped unchecked.
const RULES = 'monitoring/prometheus/rules/shopforce.rules.yml';
const RULE_TESTS = 'monitoring/prometheus/tests/shopforce.rules.test.yml';
const DASHBOARD = 'monitoring/grafana/dashboards/shopforce.json';

function promtool(...args: string[]): string {
  const out = spawnSync('promtool', args, { cwd: REPO_DIR, encoding: 'utf8' });
  assert.ok(!out.error, `promtool could not run (apt-get install prometheus): ${out.error?.message}`);
  assert.equal(out.status, 0, `promtool ${args.join(' ')}:\n${out.stdout}${out.stderr}`);
  return out.stdout + out.stderr;
}

/** Every metric name the code registers (prom-client `name: 'shopforce_…'`), and Node's default ones. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) for (const m of readFileSync(join(dir, e.name), 'utf8').matchAll(/name: '(shopforce_[a-z0-9_]+)'/g)) names.add(m[1]!);
    }
  };
  walk(join(REPO_DIR, 'src'));
  const registry = createMetricsRegistry();
  for (const m of registry.getMetricsAsArray()) names.add(m.name);
  return names;
}

/** Metric names a PromQL expression reads (histogram series map back to their histogram). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(shopforce_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

describe('monitoring/', () => {
  test('the alert rules pass `promtool check rules`', () => {
    assert.match(promtool('check', 'rules', RULES), /SUCCESS: \d+ rules found/);
  });

  test('the alert rules fire as their unit tests expect (`promtool test rules`)', () => {
    assert.match(promtool('test', 'rules', RULE_TESTS), /SUCCESS/);
  });

  test('the compose Prometheus config is valid (`promtool check config`)', () => {
    promtool('check', 'config', 'monitoring/prometheus/prometheus.yml');
  });

  test('every metric the rules and the dashboard read is one the code exports', () => {
    const exported = exportedMetrics();
    const rules = parse(readFileSync(join(REPO_DIR, RULES), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const dashboard = JSON.parse(readFileSync(join(REPO_DIR, DASHBOARD), 'utf8'));
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => [`rule ${r.alert}`, r.expr] as const)),
      ...dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => [`panel ${p.title}`, t.expr] as const)),
    ];
    for (const [where, expr] of exprs) {
      for (const name of metricsIn(expr)) assert.ok(exported.has(name), `${where} reads ${name}, which nothing exports`);
    }
    // and the main runtime metrics each have a panel
    const read = new Set(exprs.flatMap(([, e]) => metricsIn(e)));
    for (const name of Object.values(runtimeMetrics(createMetricsRegistry())).flatMap((m) => ('name' in m ? [(m as { name: string }).name] : []))) {
      assert.ok(read.has(name), `the dashboard shows ${name}`);
    }
  });

  test('the Grafana dashboard is well-formed and provisioned by docker-compose.yml', () => {
    const dashboard = JSON.parse(readFileSync(join(REPO_DIR, DASHBOARD), 'utf8'));
    assert.equal(dashboard.uid, 'shopforce');
    const ids = dashboard.panels.map((p: any) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of dashboard.panels.filter((q: any) => q.type !== 'row')) {
      assert.equal(p.datasource.uid, '${datasource}', `${p.title} uses the datasource variable`);
      assert.ok(p.targets.length > 0 && p.targets.every((t: any) => t.expr && t.refId), `${p.title} has queries`);
    }
    const compose = parse(readFileSync(join(REPO_DIR, 'docker-compose.yml'), 'utf8'));
    const grafana = compose.services.grafana;
    const provider = parse(readFileSync(join(REPO_DIR, 'monitoring/grafana/provisioning/dashboards/shopforce.yml'), 'utf8'));
    const dashboardsMount = grafana.volumes.find((v: string) => v.startsWith('./monitoring/grafana/dashboards:'));
    assert.ok(dashboardsMount, 'the dashboards folder is mounted into grafana');
    assert.equal(dashboardsMount.split(':')[1], provider.providers[0].options.path, 'where the provider looks');
    assert.ok(grafana.volumes.some((v: string) => v.startsWith('./monitoring/grafana/provisioning:/etc/grafana/provisioning')));
    const prom = compose.services.prometheus;
    assert.ok(prom.volumes.some((v: string) => v.startsWith('./monitoring/prometheus/rules:/etc/prometheus/rules')), 'the rules are loaded in compose');
    assert.equal(compose['x-shopforce-env'].SHOPFORCE_METRICS_HOST, '0.0.0.0', 'the processors listen beyond their container');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('`stack up --monitoring`: Prometheus runs as a local process, loads the rules and scrapes a processor (with its token)', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'shopforce-prometheus-'));
  const port = await freePort();
  const ctx = createStackContext({ stateDir, quiet: true, env: { ...process.env, SHOPFORCE_PROMETHEUS_PORT: String(port) } });
  const registry = createMetricsRegistry();
  runtimeMetrics(registry).consumed.inc({ processor: 'router', topic: 'shop.public.orders' }, 5);
  const token = 'prometheus-test-token-0123';
  const server = await startHealthServer({ registry, checks: [{ name: 'router', ready: () => true }], accessToken: token });
  const saved = { targets: process.env.SHOPFORCE_METRICS_TARGETS, token: process.env.SHOPFORCE_METRICS_TOKEN };
  process.env.SHOPFORCE_METRICS_TARGETS = `127.0.0.1:${server.port}`;
  process.env.SHOPFORCE_METRICS_TOKEN = token;
  try {
    await prometheus.prepare(ctx);
    await prometheus.start(ctx);
    assert.equal(await prometheus.health(ctx), true);
    const status = await prometheus.status(ctx);
    assert.ok(status.pid, 'runs as a process of ours');
    assert.equal(status.address, `http://127.0.0.1:${port}`);

    const rules = await (await fetch(`${prometheusUrl(ctx)}/api/v1/rules`)).json() as { data: { groups: Array<{ rules: Array<{ name: string }> }> } };
    const names = rules.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    assert.ok(names.includes('ShopforceDown') && names.includes('ShopforceDeadLetters'), `the shopforce rules are loaded: ${names.join(', ')}`);

    // the first scrape comes within one interval (15 s) of discovery
    const value = await eventually(async () => {
      const q = await (await fetch(`${prometheusUrl(ctx)}/api/v1/query?query=${encodeURIComponent('shopforce_records_consumed_total{processor="router"}')}`)).json() as { data: { result: Array<{ value: [number, string] }> } };
      return q.data.result[0]?.value[1];
    }, (v) => v === '5', 60_000, 1_000);
    assert.equal(value, '5', 'scraped the processor through its bearer token');
    const ready = await (await fetch(`${prometheusUrl(ctx)}/api/v1/query?query=shopforce_ready`)).json() as { data: { result: Array<{ metric: { stage: string }; value: [number, string] }> } };
    assert.deepEqual(ready.data.result.map((r) => [r.metric.stage, r.value[1]]), [['router', '1']]);
  } finally {
    await prometheus.stop(ctx);
    await server.close();
    if (saved.targets === undefined) delete process.env.SHOPFORCE_METRICS_TARGETS; else process.env.SHOPFORCE_METRICS_TARGETS = saved.targets;
    if (saved.token === undefined) delete process.env.SHOPFORCE_METRICS_TOKEN; else process.env.SHOPFORCE_METRICS_TOKEN = saved.token;
    rmSync(stateDir, { recursive: true, force: true });
  }
});
