// Replaying the Dockerfile without Docker: its own `turbo prune`, frozen install and
// `pnpm deploy` commands, its other build-stage RUNs (in sh) and its COPY instructions, each
// stage's filesystem standing in a temporary directory (`<tmp>/<stage>/...` for the stage's
// absolute paths). What the runtime stage copies there is what the image holds.
//
// Not replayed: tool installs (`npm i -g`, their pins are checked statically), the guards that
// share a RUN with a replayed command, and the turbo build (tens of seconds per app): a stand-in
// dist/main.js takes its place, and the image's dist is checked through the sources it is
// compiled from.
import { execFile, execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  REPO_ROOT,
  argsOf,
  copyInstructions,
  envOf,
  substitute,
  stageCommands,
  workdirOf,
  type App,
  type CopyInstruction,
  type Instruction,
  type Stage,
} from './repo';

const exec = promisify(execFile);

/** A command's output, or an error with the command, its stderr (in the message) and stdout. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<string> {
  try {
    const { stdout } = await exec(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    // pnpm reports ERR_PNPM_* on stdout.
    const failed = error as Error & { stdout?: string };
    throw new Error(`${failed.message.trim()}\n(in ${options.cwd})\n${failed.stdout ?? ''}`);
  }
}

/**
 * The build args a stage sees, as Docker gives them: only those the stage declares (an ARG is
 * forgotten at each FROM), the value passed or else the default; a name it does not declare is
 * empty.
 */
export function stageArgs(stage: Stage, buildArgs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(argsOf(stage)).map(([name, fallback]) => [
      name,
      buildArgs[name] ?? fallback ?? '',
    ]),
  );
}

/** The first shell command of the stage matching the pattern, as argv, with its build args in. */
export function findCommand(
  stage: Stage,
  pattern: RegExp,
  buildArgs: Record<string, string>,
): string[] {
  const command = stageCommands(stage).find((candidate) => pattern.test(candidate));
  if (!command) throw new Error(`stage "${stage.name}" runs no command matching ${pattern}`);
  return substitute(command, stageArgs(stage, buildArgs), '')
    .split(/\s+/)
    .map((token) => token.replace(/^(['"])(.*)\1$/, '$2'));
}

/** What the replay writes where the turbo build would write the app's dist/main.js. */
export const BUILD_STAND_IN = '// stands in for the turbo build, which the replay does not run\n';

export class ImageReplay {
  readonly dir = mkdtempSync(join(tmpdir(), 'deploy-check-image-'));

  constructor(
    readonly app: App,
    readonly buildArgs: Record<string, string>,
  ) {}

  /** Where a stage's absolute path lives in the replay. */
  inStage(stage: string, absolutePath: string): string {
    if (!absolutePath.startsWith('/'))
      throw new Error(`expected an absolute path in stage ${stage}: ${absolutePath}`);
    return join(this.dir, stage, absolutePath);
  }

  /** `turbo prune ...` of the prune stage, run on this repository, writing to the stage's out/. */
  async prune(stage: Stage): Promise<void> {
    const [turbo, ...args] = findCommand(stage, /^turbo prune\b/, this.buildArgs);
    const outDir = this.inStage(stage.name, `${workdirOf(stage)}/out`);
    await run('pnpm', ['exec', turbo!, ...args, `--out-dir=${outDir}`], {
      cwd: REPO_ROOT,
      env: { ...envOf(stage), TURBO_TELEMETRY_DISABLED: '1' },
    });
  }

  /**
   * Copies as Docker's COPY does: a directory's content into the destination, a file into a
   * destination ending in `/` (or `.`) by its name. `--from=<stage>` reads that stage's replay,
   * otherwise the build context (this repository). `move` renames --from sources instead, for
   * the last stage, whose sources nothing reads again (node_modules is ten thousand files).
   */
  copy(stage: Stage, copies: CopyInstruction[], options: { move?: boolean } = {}): void {
    const workdir = workdirOf(stage);
    const args = stageArgs(stage, this.buildArgs);
    for (const copy of copies) {
      const destination = substitute(copy.destination, args, '');
      const target = this.inStage(
        stage.name,
        destination.startsWith('/') ? destination : join(workdir, destination),
      );
      for (const raw of copy.sources) {
        const source = substitute(raw, args, '');
        const from =
          copy.from === undefined ? join(REPO_ROOT, source) : this.inStage(copy.from, source);
        if (!existsSync(from))
          throw new Error(`COPY source ${source} (line ${copy.line}) does not exist: ${from}`);
        const isDirectory = statSync(from).isDirectory();
        const intoDirectory = !isDirectory && /(^|\/)\.?\/?$/.test(destination);
        const to = intoDirectory ? join(target, basename(from)) : target;
        mkdirSync(isDirectory ? to : dirname(to), { recursive: true });
        if (options.move && copy.from !== undefined && (!isDirectory || isEmpty(to))) {
          renameSync(from, to);
        } else {
          // cp -a keeps symlinks as they are, as COPY does (and is far faster than fs.cpSync).
          execFileSync('cp', ['-a', isDirectory ? `${from}/.` : from, to]);
        }
      }
    }
  }

  /**
   * The stage's `pnpm install`, with --lockfile-only --offline: pnpm checks the copied manifests
   * against the lockfile (and the .pnpmfile.cjs checksum) as --frozen-lockfile does, and installs
   * nothing.
   */
  async frozenInstall(stage: Stage): Promise<void> {
    const [pnpm, ...args] = findCommand(stage, /^pnpm install\b/, this.buildArgs);
    await run(pnpm!, [...withoutStore(args), '--lockfile-only', '--offline'], {
      cwd: this.inStage(stage.name, workdirOf(stage)),
      env: envOf(stage),
    });
  }

  /**
   * The stage's `pnpm ... deploy ...`: the absolute target mapped into the replay, the store
   * left to pnpm's default, --prefer-offline (deploy resolves again and may need metadata).
   */
  async deploy(stage: Stage): Promise<void> {
    const [pnpm, ...args] = findCommand(stage, /^pnpm\b.*\bdeploy\b/, this.buildArgs);
    const mapped = withoutStore(args).map((arg) =>
      arg.startsWith('/') ? this.inStage(stage.name, arg) : arg,
    );
    await run(pnpm!, [...mapped, '--prefer-offline'], {
      cwd: this.inStage(stage.name, workdirOf(stage)),
      env: envOf(stage),
    });
  }

  /**
   * Stands in for the stage's `turbo run build`: the app's dist/main.js as BUILD_STAND_IN, so
   * what the later instructions do with dist is replayed.
   */
  standInForBuild(stage: Stage): void {
    findCommand(stage, /^pnpm turbo run build\b/, this.buildArgs);
    const dist = this.inStage(stage.name, `${workdirOf(stage)}/apps/${this.app}/dist`);
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'main.js'), BUILD_STAND_IN);
  }

  /**
   * Any other RUN, as Docker runs it: in sh, from the stage's working directory, with the
   * stage's ENV and build args in the environment; absolute paths (a word starting with `/`)
   * mapped into the replay.
   */
  async shell(stage: Stage, instruction: Instruction): Promise<void> {
    const script = instruction.args
      .replace(/^(--\S+\s+)+/, '')
      .replace(
        /(^|\s)(\/[^\s;&|]*)/g,
        (_whole, before: string, path: string) => before + this.inStage(stage.name, path),
      );
    await run('sh', ['-ec', script], {
      cwd: this.inStage(stage.name, workdirOf(stage)),
      env: { ...envOf(stage), ...stageArgs(stage, this.buildArgs) },
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function isEmpty(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

/** The store is a BuildKit cache mount in the image; here pnpm's own store serves. */
function withoutStore(args: string[]): string[] {
  return args.filter((arg) => !arg.startsWith('--store-dir'));
}

export interface ReplayedImage {
  replay: ImageReplay;
  /** The runtime stage's /app: what the image holds. */
  app: string;
  /** Why the build stage's frozen install would fail, if it would. */
  installError?: Error;
}

/**
 * The whole replay for one app: prune, the build stage instruction by instruction (its copies,
 * its frozen install, the build's stand-in, its deploy, any other RUN in sh), then the runtime
 * stage's copies.
 */
export async function replayImage(
  replay: ImageReplay,
  stagesByName: { prune: Stage; build: Stage; runtime: Stage },
): Promise<ReplayedImage> {
  const { prune, build, runtime } = stagesByName;
  let installError: Error | undefined;

  await replay.prune(prune);
  for (const instruction of build.instructions) {
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      replay.copy(build, copyInstructions([instruction]));
    } else if (instruction.keyword !== 'RUN' || /^npm i(nstall)? -g\b/.test(instruction.args)) {
      continue; // FROM, ARG, ENV, WORKDIR are read where needed; tool installs are not replayed.
    } else if (/\bpnpm install\b/.test(instruction.args)) {
      installError = await replay.frozenInstall(build).then(
        () => undefined,
        (error: Error) => error,
      );
    } else if (/\bturbo run build\b/.test(instruction.args)) {
      replay.standInForBuild(build);
    } else if (/\bpnpm\b.*\bdeploy\b/.test(instruction.args)) {
      await replay.deploy(build);
    } else {
      await replay.shell(build, instruction);
    }
  }
  replay.copy(runtime, copyInstructions(runtime.instructions), { move: true });
  return {
    replay,
    app: replay.inStage(runtime.name, workdirOf(runtime)),
    ...(installError === undefined ? {} : { installError }),
  };
}
