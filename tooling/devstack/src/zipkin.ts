import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runToCompletion, spawnManaged, waitUntilServing } from './child';
import { localDir } from './paths';

/** Zipkin's server, an executable jar on Maven Central (about 135 MB, Java 17). */
export const ZIPKIN_VERSION = '3.6.1';

export interface RunningZipkin {
  /** The UI: /zipkin/traces/<traceId> shows one trace. */
  uiUrl: string;
  /** Where services send spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT). */
  spansUrl: string;
  stop(): Promise<void>;
}

/**
 * Zipkin with in-memory storage: a trace UI with no Docker. Opt-in (`pnpm stack --zipkin`)
 * because of its first download.
 */
export async function startZipkin(options: {
  port: number;
  log: (line: string) => void;
}): Promise<RunningZipkin> {
  const jar = await ensureZipkinJar(options.log);
  const child = spawnManaged({
    command: 'java',
    args: ['-Xmx512m', '-jar', jar, `--server.port=${options.port}`],
    env: { ...process.env, STORAGE_TYPE: 'mem', MEM_MAX_SPANS: '200000' },
    log: options.log,
  });
  const uiUrl = `http://localhost:${options.port}/zipkin`;
  await waitUntilServing(child, 'Zipkin', `http://127.0.0.1:${options.port}/health`, {
    timeoutMs: 90_000,
    intervalMs: 500,
  });
  return {
    uiUrl,
    spansUrl: `http://127.0.0.1:${options.port}/api/v2/spans`,
    stop: () => child.terminate('SIGTERM', 10_000).then(() => undefined),
  };
}

/** Downloads the exec jar once into .local/zipkin; returns its path. */
async function ensureZipkinJar(log: (line: string) => void): Promise<string> {
  const root = localDir('zipkin');
  const jar = join(root, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`);
  if (existsSync(jar)) return jar;
  log(`downloading Zipkin ${ZIPKIN_VERSION} from Maven Central (first run only, ~135 MB)`);
  const staging = join(root, `staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await runToCompletion(
    {
      command: 'mvn',
      args: [
        '-B',
        '-q',
        'dependency:copy',
        `-Dartifact=io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec`,
        `-DoutputDirectory=${staging}`,
      ],
      log,
    },
    'mvn dependency:copy (zipkin-server)',
  );
  await rename(join(staging, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`), jar);
  await rm(staging, { recursive: true, force: true });
  return jar;
}
