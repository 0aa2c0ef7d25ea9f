// Reading the repository's deployment files: docker-compose.yml, the Dockerfiles, .dockerignore,
// .env.example and the local stack's Kafka version. Plain text parsing, no Docker engine.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export const APP_SERVICES = ['order-service', 'inventory-service', 'notification-service'] as const;
export type AppService = (typeof APP_SERVICES)[number];

export const INFRA_SERVICES = ['kafka', 'postgres', 'maildev', 'db-init'] as const;

/** The port each service listens on, as the local stack runs it. */
export const SERVICE_PORTS: Record<AppService, number> = {
  'order-service': 3000,
  'inventory-service': 3001,
  'notification-service': 3002,
};

/**
 * The floor: variables each service's config schema requires, whatever .env.example says.
 * .env.example (see readEnvExample) adds to this list; it never removes from it.
 */
export const REQUIRED_ENV: Record<AppService, readonly string[]> = {
  'order-service': ['PORT', 'DATABASE_URL', 'KAFKA_BROKERS'],
  'inventory-service': ['PORT', 'DATABASE_URL', 'KAFKA_BROKERS'],
  'notification-service': ['PORT', 'DATABASE_URL', 'KAFKA_BROKERS', 'SMTP_URL'],
};

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

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: unknown };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: string | number }>;
  healthcheck?: ComposeHealthcheck;
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  init?: boolean;
  volumes?: unknown[];
}

export interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(): ComposeFile {
  const text = readRepoFile('docker-compose.yml', 'it is the containerised stack under test');
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
}

/** Compose's short (`"3000:3000"`, `"3001"`, `"127.0.0.1:3000:3000/tcp"`) and long port forms. */
export function portMappings(service: ComposeService): PortMapping[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return port.published === undefined
        ? { target: port.target }
        : { target: port.target, published: String(port.published) };
    }
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts[parts.length - 1]);
    return parts.length === 1 ? { target } : { target, published: parts[parts.length - 2] };
  });
}

export function commandArgv(command: string | string[] | undefined): string[] | undefined {
  if (command === undefined) return undefined;
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

// ---------------------------------------------------------------- Dockerfiles

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

/** The instructions of each stage, split at FROM. */
export function stages(instructions: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') out.push([instruction]);
    else if (out.length > 0) out[out.length - 1]!.push(instruction);
  }
  return out;
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

export function dockerfilePath(service: AppService): string {
  return `apps/${service}/Dockerfile`;
}

export function loadDockerfile(service: AppService): Instruction[] {
  return parseDockerfile(readRepoFile(dockerfilePath(service), `the image of ${service}`));
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

/** Every workspace project's package.json, relative to the root (apps/* and packages/*). */
export function workspaceManifests(): string[] {
  const manifests: string[] = [];
  for (const folder of ['apps', 'packages']) {
    for (const entry of readdirSync(repoPath(folder), { withFileTypes: true })) {
      const manifest = `${folder}/${entry.name}/package.json`;
      if (entry.isDirectory() && existsSync(repoPath(manifest))) manifests.push(manifest);
    }
  }
  return manifests.sort();
}

export function startScript(service: AppService): string {
  const manifest = JSON.parse(readRepoFile(`apps/${service}/package.json`, 'the app manifest')) as {
    scripts?: Record<string, string>;
  };
  const start = manifest.scripts?.start;
  if (!start) throw new Error(`apps/${service}/package.json has no "start" script`);
  return start;
}

// ---------------------------------------------------------------- the local stack's Kafka

export const DEVSTACK_KAFKA_FILE = 'packages/devstack/src/kafka.ts';

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

/** Section names that apply to all three services. */
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
export function readEnvExample(): { perService: Record<AppService, string[]>; sections: string[] } {
  const text = readRepoFile(
    ENV_EXAMPLE_FILE,
    'it lists the variables each service reads (sections "# --- order-service ---" etc.)',
  );
  const perService: Record<AppService, string[]> = {
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
    const targets: AppService[] = SHARED_SECTIONS.has(section)
      ? [...APP_SERVICES]
      : APP_SERVICES.filter((service) => service === section);
    for (const service of targets) {
      if (!perService[service].includes(variable[1]!)) perService[service].push(variable[1]!);
    }
  }
  return { perService, sections };
}
