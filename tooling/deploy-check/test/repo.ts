// Reading the repository's deployment files: docker-compose.yml, the Dockerfile, .dockerignore,
// .env.example, the workspace manifests and lockfile, and the local stack's Kafka version.
// Plain text parsing, no Docker engine.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

/** The services: each owns a database (migrations, DATABASE_URL, a role) and Kafka topics. */
export const SERVICES = ['order-service', 'inventory-service', 'notification-service'] as const;
export type Service = (typeof SERVICES)[number];

/** The read-only observer: Kafka and the services' HTTP endpoints, no database. */
export const FLOW_CONSOLE = 'flow-console';

/** Everything under apps/: each is an image of the one Dockerfile and a compose service. */
export const APPS = [...SERVICES, FLOW_CONSOLE] as const;
export type App = (typeof APPS)[number];

export const INFRA_SERVICES = [
  'kafka',
  'postgres',
  'maildev',
  'identity-provider',
  'db-init',
  'kafka-init',
] as const;

/** The local OpenID Connect provider's compose service and its image's Dockerfile. */
export const IDENTITY_PROVIDER = 'identity-provider';
export const IDENTITY_PROVIDER_DOCKERFILE = 'tooling/identity-provider/Dockerfile';

/** What operators look with: a trace UI, Prometheus and Grafana. */
export const OBSERVABILITY_SERVICES = ['zipkin', 'prometheus', 'grafana'] as const;

/** The port each app listens on, as the local stack runs it. */
export const APP_PORTS: Record<App, number> = {
  'order-service': 3000,
  'inventory-service': 3001,
  'notification-service': 3002,
  'flow-console': 3100,
};

/** Services that only consume events, so `docker compose up --scale` may run several. */
export const SCALABLE_SERVICES: readonly Service[] = ['inventory-service', 'notification-service'];

export function isService(app: string): app is Service {
  return (SERVICES as readonly string[]).includes(app);
}

/**
 * The floor: variables each app's config schema requires, whatever .env.example says.
 * .env.example (see readEnvExample) adds to this list for the services; it never removes from it.
 */
export const REQUIRED_ENV: Record<App, readonly string[]> = {
  'order-service': [
    'PORT',
    'DATABASE_URL',
    'MIGRATION_DATABASE_URL',
    'KAFKA_BROKERS',
    'KAFKA_SASL_PASSWORD',
    'AUTH_ISSUER_URL',
  ],
  'inventory-service': [
    'PORT',
    'DATABASE_URL',
    'MIGRATION_DATABASE_URL',
    'KAFKA_BROKERS',
    'KAFKA_SASL_PASSWORD',
    'AUTH_ISSUER_URL',
  ],
  'notification-service': [
    'PORT',
    'DATABASE_URL',
    'MIGRATION_DATABASE_URL',
    'KAFKA_BROKERS',
    'KAFKA_SASL_PASSWORD',
    'AUTH_ISSUER_URL',
    'SMTP_URL',
  ],
  'flow-console': ['KAFKA_BROKERS', 'KAFKA_SASL_PASSWORD', 'AUTH_ISSUER_URL', 'AUTH_CLIENT_SECRET'],
};

/** The flow console's config schema: `export const consoleConfigSchema = z.object({ ... })`. */
export const CONSOLE_CONFIG_FILE = 'apps/flow-console/src/config/console-config.ts';

/**
 * The variables the flow console's config schema reads: the top-level keys of its z.object.
 * Compose values under any other name would be ignored, leaving the defaults (127.0.0.1 URLs).
 */
export function consoleConfigKeys(): string[] {
  const text = readRepoFile(CONSOLE_CONFIG_FILE, "it holds the flow console's config schema");
  const start = /export const consoleConfigSchema = z\.object\(\{\n/.exec(text);
  if (!start) throw new Error(`${CONSOLE_CONFIG_FILE} has no consoleConfigSchema = z.object({`);
  const body = text.slice(start.index + start[0].length, text.indexOf('\n});', start.index));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
}

/** The variable that gives the flow console a service's base URLs: order-service -> ORDER_SERVICE_URLS. */
export function consoleUrlsVariable(service: Service): string {
  return `${service.toUpperCase().replace(/-/g, '_')}_URLS`;
}

export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}

export function readRepoFile(relativePath: string, why: string): string {
  const path = repoPath(relativePath);
  if (!existsSync(path)) throw new Error(`${relativePath} is missing: ${why}`);
  return readFileSync(path, 'utf8');
}

// ---------------------------------------------------------------- docker-compose.yml

export interface ComposeHealthcheck {
  test?: string | string[];
  disable?: boolean;
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
}

export interface ComposeBuild {
  context?: string;
  dockerfile?: string;
  args?: Record<string, string | number | null> | string[];
}

export interface ComposeService {
  image?: string;
  build?: string | ComposeBuild;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: string | number }>;
  healthcheck?: ComposeHealthcheck;
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  init?: boolean;
  stop_grace_period?: string;
  volumes?: unknown[];
}

export interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** What `sh docker/generate-env.sh` writes to .env, with fixed values for the checks. */
export const COMPOSE_TEST_ENV: Readonly<Record<string, string>> = {
  POSTGRES_PASSWORD: 'a1a1a1',
  DB_PASSWORD_ORDER_SERVICE: 'b2b2b2',
  DB_PASSWORD_ORDER_OWNER: 'c3c3c3',
  DB_PASSWORD_INVENTORY_SERVICE: 'd4d4d4',
  DB_PASSWORD_INVENTORY_OWNER: 'e5e5e5',
  DB_PASSWORD_NOTIFICATION_SERVICE: 'f6f6f6',
  DB_PASSWORD_NOTIFICATION_OWNER: 'a7a7a7',
  KAFKA_PASSWORD_ADMIN: 'b8b8b8',
  KAFKA_PASSWORD_CONTROLLER: 'c9c9c9',
  KAFKA_PASSWORD_ORDER_SERVICE: 'd0d0d0',
  KAFKA_PASSWORD_INVENTORY_SERVICE: 'e1e1e1',
  KAFKA_PASSWORD_NOTIFICATION_SERVICE: 'f2f2f2',
  KAFKA_PASSWORD_FLOW_CONSOLE: 'a3a3a3',
  KAFKA_PASSWORD_OPERATOR: 'b4b4b4',
  GRAFANA_ADMIN_PASSWORD: 'c5c5c5',
};

/** The .env variable holding a Kafka principal's password: order-service -> KAFKA_PASSWORD_ORDER_SERVICE. */
export function kafkaPasswordVariable(principal: string): string {
  return `KAFKA_PASSWORD_${principal.toUpperCase().replace(/-/g, '_')}`;
}

export function composeText(): string {
  return readRepoFile('docker-compose.yml', 'it is the containerised stack under test');
}

/** The compose file as compose reads it: variables replaced from `env` (compose's .env). */
export function loadCompose(env: Readonly<Record<string, string>> = COMPOSE_TEST_ENV): ComposeFile {
  const text = composeText().replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[?-][^}]*)?\}/g,
    (_match, name: string) => {
      const value = env[name];
      if (value === undefined) throw new Error(`docker-compose.yml needs ${name}, not in the env`);
      return value;
    },
  );
  // merge: compose resolves `<<: *anchor` (YAML 1.1 merge keys), so must we.
  return parse(text, { merge: true }) as ComposeFile;
}

/** A service's environment as a map, whichever of the two compose forms it uses. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const at = entry.indexOf('=');
      if (at === -1) out[entry] = '';
      else out[entry.slice(0, at)] = entry.slice(at + 1);
    }
  } else {
    for (const [name, value] of Object.entries(env))
      out[name] = value === null ? '' : String(value);
  }
  return out;
}

/** A service's build: context, Dockerfile and build args as strings, whichever form compose uses. */
export function buildOf(service: ComposeService): {
  context?: string;
  dockerfile?: string;
  args: Record<string, string>;
} {
  const build = typeof service.build === 'string' ? { context: service.build } : service.build;
  if (!build) return { args: {} };
  const args: Record<string, string> = {};
  if (Array.isArray(build.args)) {
    for (const entry of build.args) {
      const at = entry.indexOf('=');
      if (at !== -1) args[entry.slice(0, at)] = entry.slice(at + 1);
    }
  } else {
    for (const [name, value] of Object.entries(build.args ?? {}))
      if (value !== null) args[name] = String(value);
  }
  return {
    ...(build.context === undefined ? {} : { context: build.context }),
    ...(build.dockerfile === undefined ? {} : { dockerfile: build.dockerfile }),
    args,
  };
}

export function dependsOnConditions(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, spec]) => [name, spec?.condition]));
}

/** A healthcheck's test as one string (CMD arrays joined), for pattern checks. */
export function healthcheckText(service: ComposeService): string {
  const test = service.healthcheck?.test;
  if (test === undefined) return '';
  return Array.isArray(test) ? test.join(' ') : test;
}

export interface PortMapping {
  target: number;
  published?: string;
  /** The host address the port is published on; absent means every interface. */
  hostIp?: string;
}

/** Compose's short (`"3000:3000"`, `"3001"`, `"127.0.0.1:3000:3000/tcp"`, `"127.0.0.1::3001"`) and long port forms. */
export function portMappings(service: ComposeService): PortMapping[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      const hostIp = (port as { host_ip?: string }).host_ip;
      return {
        target: port.target,
        ...(port.published === undefined ? {} : { published: String(port.published) }),
        ...(hostIp === undefined ? {} : { hostIp }),
      };
    }
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.at(-1));
    const published = parts.length >= 2 ? parts.at(-2) : undefined;
    const hostIp = parts.length === 3 ? parts[0] : undefined;
    return {
      target,
      ...(published ? { published } : {}),
      ...(hostIp ? { hostIp } : {}),
    };
  });
}

export function commandArgv(command: string | string[] | undefined): string[] | undefined {
  if (command === undefined) return undefined;
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

// ---------------------------------------------------------------- the Dockerfile

/** One Dockerfile for every app, cut per app by the SERVICE and PORT build args. */
export const DOCKERFILE = 'Dockerfile';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions in order: continuation lines joined, comment and blank lines dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      return;
    }
    pending += line;
    const match = /^(\S+)\s*(.*)$/s.exec(pending.trim());
    if (match)
      instructions.push({
        keyword: match[1]!.toUpperCase(),
        args: match[2]!.trim(),
        line: startLine,
      });
    pending = '';
  });
  return instructions;
}

export function loadDockerfile(): Instruction[] {
  return parseDockerfile(readRepoFile(DOCKERFILE, 'the image of every app'));
}

export interface Stage {
  /** `AS <name>`, or the stage's index when it has none. */
  name: string;
  image: string;
  instructions: Instruction[];
}

/** The stages in order, split at FROM; each stage's instructions start with its FROM. */
export function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args
        .split(/\s+/)
        .filter((token) => !token.startsWith('--'));
      out.push({
        name: as?.toUpperCase() === 'AS' && name ? name : String(out.length),
        image,
        instructions: [instruction],
      });
    } else out.at(-1)?.instructions.push(instruction);
  }
  return out;
}

export function stageNamed(instructions: Instruction[], name: string): Stage {
  const stage = stages(instructions).find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`${DOCKERFILE} has no stage "${name}"`);
  return stage;
}

export function keywordArgs(stage: Stage, keyword: string): string[] {
  return stage.instructions
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.args);
}

/** The stage's working directory (its last WORKDIR; absolute ones only, as ours are). */
export function workdirOf(stage: Stage): string {
  return keywordArgs(stage, 'WORKDIR').at(-1) ?? '/';
}

/** `ENV A=1 B=2` pairs of a stage (the `ENV A 1` legacy form is not used here). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of keywordArgs(stage, 'ENV'))
    for (const pair of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g))
      env[pair[1]!] = pair[2]!.replace(/^"(.*)"$/, '$1');
  return env;
}

/** Build args declared in a stage, with their defaults (undefined when none). */
export function argsOf(stage: Stage): Record<string, string | undefined> {
  return Object.fromEntries(
    keywordArgs(stage, 'ARG').map((args) => {
      const at = args.indexOf('=');
      return at === -1 ? [args, undefined] : [args.slice(0, at), args.slice(at + 1)];
    }),
  );
}

/**
 * `${NAME}` and `$NAME` replaced as Docker does for build args. A name without a value is kept
 * as written, or replaced by `missing` when given (Docker makes it empty).
 */
export function substitute(text: string, values: Record<string, string>, missing?: string): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced?: string, bare?: string) => values[(braced ?? bare)!] ?? missing ?? whole,
  );
}

/**
 * The shell commands of a RUN, split at `&&`, `||` and `;`, without the RUN's own flags
 * (`--mount=...`). Enough for the plain command lists in our Dockerfile, not a shell parser.
 */
export function shellCommands(runArgs: string): string[] {
  const body = runArgs.replace(/^(--\S+\s+)+/, '');
  return body
    .split(/&&|\|\||;/)
    .map((command) => command.trim())
    .filter((command) => command !== '');
}

/** Every shell command of every RUN in the stage, in order. */
export function stageCommands(stage: Stage): string[] {
  return keywordArgs(stage, 'RUN').flatMap(shellCommands);
}

/** Exec form `["node", "x"]` as an array; shell form split on whitespace. */
export function execForm(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return args.split(/\s+/);
}

export interface CopyInstruction {
  from?: string;
  sources: string[];
  destination: string;
  line: number;
}

export function copyInstructions(instructions: Instruction[]): CopyInstruction[] {
  return instructions
    .filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD')
    .map((instruction) => {
      const tokens = instruction.args.startsWith('[')
        ? (JSON.parse(instruction.args) as string[])
        : instruction.args.split(/\s+/);
      const flags = tokens.filter((token) => token.startsWith('--'));
      const paths = tokens.filter((token) => !token.startsWith('--'));
      const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
      return {
        ...(from === undefined ? {} : { from }),
        sources: paths.slice(0, -1),
        destination: paths[paths.length - 1] ?? '',
        line: instruction.line,
      };
    });
}

// ---------------------------------------------------------------- .dockerignore

interface IgnoreRule {
  negated: boolean;
  pattern: RegExp;
}

/** Docker's .dockerignore rules (Go filepath.Match plus `**`), last match wins. */
export function dockerignoreRules(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const body = (negated ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      let source = '';
      for (let i = 0; i < body.length; i++) {
        const char = body[i]!;
        if (body.startsWith('**/', i)) {
          source += '(?:.*/)?';
          i += 2;
        } else if (body.startsWith('**', i)) {
          source += '.*';
          i += 1;
        } else if (char === '*') source += '[^/]*';
        else if (char === '?') source += '[^/]';
        else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negated, pattern: new RegExp(`^${source}$`) };
    });
}

/** Whether the path, or a folder holding it, is left out of the build context. */
export function isIgnored(rules: IgnoreRule[], relativePath: string): boolean {
  const parts = relativePath
    .replace(/^\.\/+/, '')
    .replace(/\/+$/, '')
    .split('/');
  for (let depth = 1; depth <= parts.length; depth++) {
    const candidate = parts.slice(0, depth).join('/');
    let ignored = false;
    for (const rule of rules) if (rule.pattern.test(candidate)) ignored = !rule.negated;
    if (ignored) return true;
  }
  return false;
}

// ---------------------------------------------------------------- workspace

export interface Manifest {
  name: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export const WORKSPACE_FOLDERS = ['apps', 'packages', 'tooling'] as const;

export interface WorkspacePackage {
  /** apps: deployed; packages: what they run; tooling: builds, runs and tests them, never shipped. */
  folder: (typeof WORKSPACE_FOLDERS)[number];
  /** Relative to the root, e.g. `tooling/devstack`. */
  dir: string;
  manifest: Manifest;
}

/** Every workspace project (apps/*, packages/*, tooling/*), read from its package.json. */
export function workspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const folder of WORKSPACE_FOLDERS) {
    for (const entry of readdirSync(repoPath(folder), { withFileTypes: true })) {
      const dir = `${folder}/${entry.name}`;
      if (!entry.isDirectory() || !existsSync(repoPath(dir, 'package.json'))) continue;
      const manifest = JSON.parse(readRepoFile(`${dir}/package.json`, 'a workspace manifest'));
      found.push({ folder, dir, manifest: manifest as Manifest });
    }
  }
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Names of the tooling packages: none of them may reach an image. */
export function toolingPackageNames(): string[] {
  return workspacePackages()
    .filter((pkg) => pkg.folder === 'tooling')
    .map((pkg) => pkg.manifest.name);
}

/**
 * The workspace packages a project needs at run time: its `dependencies` and `peerDependencies`
 * on workspace packages, transitively (devDependencies are left out, as `pnpm deploy --prod` does).
 */
export function productionWorkspaceClosure(name: string): string[] {
  const byName = new Map(workspacePackages().map((pkg) => [pkg.manifest.name, pkg]));
  const seen = new Set<string>();
  const visit = (current: string) => {
    const manifest = byName.get(current)?.manifest;
    if (!manifest) throw new Error(`${current} is not a workspace package`);
    for (const dependency of Object.keys({
      ...manifest.dependencies,
      ...manifest.peerDependencies,
    })) {
      if (byName.has(dependency) && !seen.has(dependency)) {
        seen.add(dependency);
        visit(dependency);
      }
    }
  };
  visit(name);
  return [...seen].sort();
}

/** The version pnpm-lock.yaml resolves for one of the root package.json's devDependencies. */
export function lockedRootDevDependency(name: string): string {
  const lockfile = parse(readRepoFile('pnpm-lock.yaml', 'the lockfile')) as {
    importers?: Record<string, { devDependencies?: Record<string, { version?: string }> }>;
  };
  const version = lockfile.importers?.['.']?.devDependencies?.[name]?.version;
  if (!version) throw new Error(`pnpm-lock.yaml resolves no root devDependency "${name}"`);
  return version.replace(/\(.*$/, '');
}

export function startScript(app: App): string {
  const manifest = JSON.parse(
    readRepoFile(`apps/${app}/package.json`, 'the app manifest'),
  ) as Manifest;
  const start = manifest.scripts?.start;
  if (!start) throw new Error(`apps/${app}/package.json has no "start" script`);
  return start;
}

// ---------------------------------------------------------------- the local stack's Kafka

export const DEVSTACK_KAFKA_FILE = 'tooling/devstack/src/kafka.ts';

/** `export const KAFKA_VERSION = '3.9.1';` in the local stack's Kafka runner. */
export function localStackKafkaVersion(): string {
  const text = readRepoFile(DEVSTACK_KAFKA_FILE, 'it pins the Kafka version the local stack runs');
  const match = /export\s+const\s+KAFKA_VERSION\s*(?::\s*string\s*)?=\s*['"]([^'"]+)['"]/.exec(
    text,
  );
  if (!match) throw new Error(`${DEVSTACK_KAFKA_FILE} does not export KAFKA_VERSION = '<version>'`);
  return match[1]!;
}

// ---------------------------------------------------------------- .env.example

export const ENV_EXAMPLE_FILE = '.env.example';

/** Section names that apply to all three services (not the flow console, which has its own). */
const SHARED_SECTIONS = new Set(['all services', 'common', 'shared', 'services']);

/**
 * The variables .env.example documents per service. Contract:
 *  - a header line `# --- <name> ---` starts a section;
 *  - `NAME=value` lines (optionally `export NAME=value`) in a section are that section's variables;
 *    commented-out ones (`# NAME=value`) are optional and not collected;
 *  - a section named after a service (`order-service`, ...) holds that service's variables;
 *    `all services` / `common` / `shared` hold variables of all three; any other section
 *    (e.g. `local stack`, `tests`) and lines before the first header are not about the services.
 */
export function readEnvExample(): { perService: Record<Service, string[]>; sections: string[] } {
  const text = readRepoFile(
    ENV_EXAMPLE_FILE,
    'it lists the variables each service reads (sections "# --- order-service ---" etc.)',
  );
  const perService: Record<Service, string[]> = {
    'order-service': [],
    'inventory-service': [],
    'notification-service': [],
  };
  const sections: string[] = [];
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^#\s*-{2,}\s*(.+?)\s*-{2,}\s*$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      sections.push(section);
      continue;
    }
    const variable = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (!variable || section === undefined) continue;
    const targets: Service[] = SHARED_SECTIONS.has(section)
      ? [...SERVICES]
      : SERVICES.filter((service) => service === section);
    for (const service of targets) {
      if (!perService[service].includes(variable[1]!)) perService[service].push(variable[1]!);
    }
  }
  return { perService, sections };
}
