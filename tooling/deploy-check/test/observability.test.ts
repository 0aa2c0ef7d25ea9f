import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tracingConfigSchema } from '@shop/telemetry';
import {
  APP_PORTS,
  COMPOSE_TEST_ENV,
  FLOW_CONSOLE,
  OBSERVABILITY_SERVICES,
  SERVICES,
  environmentOf,
  loadCompose,
  portMappings,
  repoPath,
} from './repo';

const compose = loadCompose();
const service = (name: string) => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};

/** host path -> container path of a service's bind mounts. */
function mounts(name: string): Map<string, string> {
  return new Map(
    (service(name).volumes ?? []).map((volume) => {
      const [host = '', container = ''] = String(volume).split(':');
      return [container, host];
    }),
  );
}

function readMounted(name: string, containerPath: string): string {
  const host = mounts(name).get(containerPath);
  if (!host) throw new Error(`${name} mounts nothing at ${containerPath}`);
  return readFileSync(repoPath(host), 'utf8');
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
}

describe('docker-compose.yml, observability', () => {
  it('runs Zipkin, Prometheus and Grafana, published on 127.0.0.1 only', () => {
    for (const name of OBSERVABILITY_SERVICES) {
      const published = portMappings(service(name));
      expect({ name, hosts: [...new Set(published.map((port) => port.hostIp))] }).toEqual({
        name,
        hosts: ['127.0.0.1'],
      });
      expect(service(name).healthcheck).toBeDefined();
    }
  });

  it.each(SERVICES)(
    '%s traces into Zipkin by its compose name, with a valid tracing config',
    (name) => {
      const env = environmentOf(service(name));
      const tracing = tracingConfigSchema.parse(env);
      expect(tracing.OTEL_TRACES_EXPORTER).toBe('zipkin');
      const endpoint = new URL(tracing.OTEL_EXPORTER_ZIPKIN_ENDPOINT);
      expect([endpoint.hostname, endpoint.port, endpoint.pathname]).toEqual([
        'zipkin',
        '9411',
        '/api/v2/spans',
      ]);
    },
  );

  it("links the flow console's journeys to Zipkin's UI at the port compose publishes", () => {
    const url = new URL(String(environmentOf(service(FLOW_CONSOLE)).TRACE_UI_URL));
    expect(url.hostname).toBe('localhost');
    expect(portMappings(service('zipkin'))).toContainEqual(
      expect.objectContaining({ published: url.port, target: 9411 }),
    );
  });

  it('has Prometheus scrape /metrics of every service at its port, every replica of the scalable ones', () => {
    const config = parse(readMounted('prometheus', '/etc/prometheus/prometheus.yml')) as {
      scrape_configs: ScrapeConfig[];
    };
    for (const name of SERVICES) {
      const job = config.scrape_configs.find((entry) => entry.job_name === name);
      const targets = [
        ...(job?.static_configs ?? []).flatMap((entry) => entry.targets),
        ...(job?.dns_sd_configs ?? []).flatMap((entry) =>
          entry.names.map((host) => `${host}:${entry.port}`),
        ),
      ];
      expect({ name, targets }).toEqual({ name, targets: [`${name}:${APP_PORTS[name]}`] });
    }
  });

  it('provisions Grafana with Prometheus and Zipkin by their compose names, and its admin password from .env', () => {
    const grafana = service('grafana');
    expect(environmentOf(grafana).GF_SECURITY_ADMIN_PASSWORD).toBe(
      COMPOSE_TEST_ENV.GRAFANA_ADMIN_PASSWORD,
    );
    const provisioning = mounts('grafana').get('/etc/grafana/provisioning');
    expect(provisioning).toBeDefined();
    const datasources = parse(
      readFileSync(repoPath(provisioning!, 'datasources', 'datasources.yml'), 'utf8'),
    ) as { datasources: Array<{ type: string; uid: string; url: string }> };
    expect(datasources.datasources.map(({ type, url }) => [type, url])).toEqual([
      ['prometheus', 'http://prometheus:9090'],
      ['zipkin', 'http://zipkin:9411'],
    ]);
    const providers = parse(
      readFileSync(repoPath(provisioning!, 'dashboards', 'dashboards.yml'), 'utf8'),
    ) as { providers: Array<{ options: { path: string } }> };
    const dashboardsIn = providers.providers[0]?.options.path ?? '';
    expect(mounts('grafana').get(dashboardsIn)).toBeDefined();
  });

  it('charts only series the services serve, from the provisioned Prometheus data source', () => {
    const folder = repoPath(mounts('grafana').get('/var/lib/grafana/dashboards') ?? '');
    const served = servedMetricNames();
    for (const file of readdirSync(folder).filter((entry) => entry.endsWith('.json'))) {
      const dashboard = JSON.parse(readFileSync(join(folder, file), 'utf8')) as {
        panels: Array<{
          title: string;
          datasource: { uid: string };
          targets: Array<{ expr: string }>;
        }>;
      };
      expect(dashboard.panels.length).toBeGreaterThan(0);
      for (const panel of dashboard.panels) {
        expect(panel.datasource.uid).toBe('prometheus');
        for (const { expr } of panel.targets) {
          const names = metricNamesIn(expr);
          expect(names.length).toBeGreaterThan(0);
          for (const name of names) {
            expect({ panel: panel.title, name, served: served.has(name) }).toEqual({
              panel: panel.title,
              name,
              served: true,
            });
          }
        }
      }
    }
  });
});

/** The series a PromQL expression reads: names that are neither functions nor grouping labels. */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  return [...bare.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)].map((match) =>
    (match[1] ?? '').replace(/_(bucket|sum|count)$/, ''),
  );
}

/** Series names the code registers (`name: '...'` beside prom-client), plus prom-client's defaults used. */
function servedMetricNames(): Set<string> {
  const names = new Set(['process_cpu_seconds_total']);
  const roots = [
    'packages/messaging/src',
    'packages/service-kit/src',
    'apps/notification-service/src',
  ];
  for (const root of roots) {
    for (const file of sourceFiles(repoPath(root))) {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('prom-client')) continue;
      for (const match of text.matchAll(/name: '([a-z_]+)'/g)) names.add(match[1] ?? '');
    }
  }
  return names;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}
