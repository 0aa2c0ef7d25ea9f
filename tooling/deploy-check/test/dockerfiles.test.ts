import { existsSync, readFileSync, readdirSync } from 'node:fs';
import {
  APP_SERVICES,
  DOCKERFILE,
  SERVICE_PORTS,
  argsOf,
  copyInstructions,
  dockerignoreRules,
  envOf,
  execForm,
  isIgnored,
  keywordArgs,
  loadDockerfile,
  lockedRootDevDependency,
  readRepoFile,
  repoPath,
  stageCommands,
  stageNamed,
  stages,
  workdirOf,
  workspacePackages,
} from './repo';

const ignoreRules = dockerignoreRules(
  readRepoFile('.dockerignore', 'it keeps the build context small'),
);
const isGlob = (path: string) => /[*?[]/.test(path);
const normalise = (path: string) => path.replace(/^\.\//, '').replace(/\/+$/, '') || '.';

describe('.dockerignore', () => {
  it('leaves installed dependencies, build output and local state out of the build context', () => {
    for (const path of [
      'node_modules',
      'packages/database/node_modules',
      'apps/order-service/dist',
      'packages/contracts/dist',
      'apps/order-service/src/generated',
      '.turbo',
      'apps/order-service/.turbo',
      '.local',
      '.git',
      // A local `turbo prune` output: turbo does not clear it, so it would leak into the image's.
      'out',
    ]) {
      expect({ path, ignored: isIgnored(ignoreRules, path) }).toEqual({ path, ignored: true });
    }
  });

  it('keeps in the context everything turbo prune and the frozen install read', () => {
    const needed = [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'turbo.json',
      '.npmrc',
      '.pnpmfile.cjs',
      ...workspacePackages().flatMap((pkg) => [`${pkg.dir}/package.json`, `${pkg.dir}/src`]),
    ].filter((path) => existsSync(repoPath(path)));
    expect(needed.filter((path) => isIgnored(ignoreRules, path))).toEqual([]);
  });
});

describe(`${DOCKERFILE}: one for every service`, () => {
  const instructions = loadDockerfile();
  const allStages = stages(instructions);
  const runtime = allStages.at(-1)!;
  const build = stageNamed(instructions, 'build');
  const copies = copyInstructions(instructions);

  it('replaces the per-service Dockerfiles', () => {
    const leftovers = readdirSync(repoPath('apps')).filter((app) =>
      existsSync(repoPath('apps', app, 'Dockerfile')),
    );
    expect(leftovers).toEqual([]);
  });

  it('is a multi-stage build on Node 20', () => {
    expect(allStages.length).toBeGreaterThanOrEqual(2);
    for (const stage of allStages) expect(stage.image).toMatch(/^node:20[-.\w]*$/);
  });

  it('is cut per service by the SERVICE and PORT build args, naming no service or port itself', () => {
    const text = instructions.map((instruction) => instruction.args).join('\n');
    for (const service of APP_SERVICES) {
      expect(text).not.toContain(service);
      expect(text).not.toMatch(new RegExp(`\\b${SERVICE_PORTS[service]}\\b`));
    }
    // Docker forgets an ARG at each FROM: a stage that uses one must declare it again.
    for (const stage of allStages) {
      const stageText = stage.instructions
        .slice(1)
        .map((instruction) => instruction.args)
        .join('\n');
      for (const arg of ['SERVICE', 'PORT'])
        if (new RegExp(`\\$\\{?${arg}\\b`).test(stageText))
          expect({ stage: stage.name, arg, declared: arg in argsOf(stage) }).toEqual({
            stage: stage.name,
            arg,
            declared: true,
          });
    }
  });

  it('gives SERVICE and PORT no default, and stops at once when one is missing', () => {
    const first = allStages[0]!;
    for (const stage of allStages)
      for (const arg of ['SERVICE', 'PORT'])
        if (arg in argsOf(stage)) expect(argsOf(stage)[arg]).toBeUndefined();
    const guards = stageCommands(first).join('\n');
    expect(guards).toMatch(/test -n "\$\{?SERVICE\}?"/);
    expect(guards).toMatch(/test -n "\$\{?PORT\}?"/);
  });

  it('cuts the workspace with turbo prune --docker, at the turbo version the lockfile resolves', () => {
    const prune = stageNamed(instructions, 'prune');
    expect(stageCommands(prune)).toContain('turbo prune @shop/${SERVICE} --docker');
    expect(stageCommands(prune)).toContain(`npm i -g turbo@${lockedRootDevDependency('turbo')}`);
    // No hand-kept list: what is installed comes from the pruned out/json and lockfile.
    const manifestCopies = copies.filter((copy) =>
      copy.sources.some((source) => /(^|\/)package\.json$/.test(source) && copy.from !== 'build'),
    );
    expect(manifestCopies).toEqual([]);
  });

  it('installs with the frozen lockfile and the pinned pnpm, with .pnpmfile.cjs beside it', () => {
    const pinned = JSON.parse(readRepoFile('package.json', 'the root manifest'))
      .packageManager as string;
    expect(stageCommands(build)).toContain(`npm i -g ${pinned}`);
    const install = build.instructions.findIndex(
      (instruction) => instruction.keyword === 'RUN' && /\bpnpm install\b/.test(instruction.args),
    );
    expect(build.instructions[install]?.args).toMatch(/pnpm install\b.*--frozen-lockfile/);
    const copiedBefore = copyInstructions(build.instructions.slice(0, install));
    const sources = copiedBefore.flatMap((copy) => copy.sources.map(normalise));
    const out = `${workdirOf(stageNamed(instructions, 'prune'))}/out`;
    expect(sources).toEqual(expect.arrayContaining([`${out}/json`, `${out}/pnpm-lock.yaml`]));
    // turbo prune leaves .pnpmfile.cjs out, but the lockfile records its checksum.
    if (readRepoFile('pnpm-lock.yaml', 'the lockfile').includes('pnpmfileChecksum:'))
      expect(sources).toContain('.pnpmfile.cjs');
  });

  it('builds the service with turbo, with a pinned Prisma schema engine path in the build stage only', () => {
    expect(stageCommands(build)).toContain('pnpm turbo run build --filter=@shop/${SERVICE}...');
    expect(envOf(build).PRISMA_SCHEMA_ENGINE_BINARY).toMatch(/^\/\S+/);
    expect(envOf(runtime)).not.toHaveProperty('PRISMA_SCHEMA_ENGINE_BINARY');
  });

  it('deploys the service with production dependencies only for the runtime stage', () => {
    const deploy = stageCommands(build).find((command) => /^pnpm\b.*\bdeploy\b/.test(command));
    expect(deploy).toMatch(/--filter=@shop\/\$\{SERVICE\}/);
    expect(deploy).toMatch(/--prod\b/);
    const target = deploy!.split(/\s+/).at(-1)!;
    const fromDeploy = copyInstructions(runtime.instructions).filter(
      (copy) => copy.from === build.name && copy.sources.some((s) => s.startsWith(`${target}/`)),
    );
    expect(fromDeploy.flatMap((copy) => copy.sources)).toEqual(
      expect.arrayContaining([`${target}/node_modules`, `${target}/package.json`]),
    );
  });

  it('ships the prisma migrations next to dist, where the service looks for them', () => {
    const runtimeCopies = copyInstructions(runtime.instructions);
    const destination = (suffix: string) =>
      runtimeCopies.find((copy) => copy.sources.some((source) => source.endsWith(suffix)))
        ?.destination;
    const workdir = workdirOf(build);
    expect(destination(`${workdir}/apps/\${SERVICE}/dist`)).toMatch(/^(\.\/)?dist\/?$/);
    expect(destination(`${workdir}/apps/\${SERVICE}/prisma/migrations`)).toMatch(
      /^(\.\/)?prisma\/migrations\/?$/,
    );
    for (const service of APP_SERVICES) {
      const migrations = repoPath('apps', service, 'prisma', 'migrations');
      expect({ service, migrations: existsSync(migrations) }).toEqual({
        service,
        migrations: true,
      });
      // service.ts: join(__dirname, '..', 'prisma', 'migrations') from dist/.
      expect(readFileSync(repoPath('apps', service, 'src', 'service.ts'), 'utf8')).toMatch(
        /join\(__dirname,\s*'\.\.',\s*'prisma',\s*'migrations'\)/,
      );
    }
  });

  it('runs the final stage as a non-root user', () => {
    const user = keywordArgs(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('sets PORT from the build arg, exposes it and health-checks /health on it', () => {
    expect(envOf(runtime).PORT).toMatch(/^\$\{?PORT\}?$/);
    expect(keywordArgs(runtime, 'EXPOSE')).toContainEqual(expect.stringMatching(/^\$\{?PORT\}?$/));
    const healthcheck = keywordArgs(runtime, 'HEALTHCHECK').at(-1) ?? '';
    expect(healthcheck).toMatch(/process\.env\.PORT|\$\{?PORT\}?/);
    expect(healthcheck).toContain('/health');
  });

  it('starts the service with node dist/main.js', () => {
    const cmd = keywordArgs(runtime, 'CMD').at(-1);
    expect(execForm(cmd!)).toEqual(['node', 'dist/main.js']);
  });

  it('copies from earlier stages only, and from the context only paths that exist and are not ignored', () => {
    const names = allStages.map((stage) => stage.name);
    for (const copy of copies.filter((c) => c.from !== undefined)) {
      const stageOfCopy = allStages.findIndex((stage) =>
        stage.instructions.some((instruction) => instruction.line === copy.line),
      );
      expect(names.slice(0, stageOfCopy)).toContain(copy.from);
    }
    const sources = copies
      .filter((copy) => copy.from === undefined)
      .flatMap((copy) => copy.sources)
      .filter((source) => !isGlob(source))
      .map(normalise);
    expect(sources.length).toBeGreaterThan(0);
    const problems = sources.flatMap((source) => [
      ...(existsSync(repoPath(source)) ? [] : [`${source} does not exist`]),
      ...(source !== '.' && isIgnored(ignoreRules, source)
        ? [`${source} is excluded by .dockerignore`]
        : []),
    ]);
    expect(problems).toEqual([]);
  });

  it('copies nothing from tooling/ into the runtime stage', () => {
    const fromContext = copyInstructions(runtime.instructions)
      .filter((copy) => copy.from === undefined)
      .flatMap((copy) => copy.sources.map(normalise));
    expect(fromContext.filter((source) => source === '.' || source.startsWith('tooling'))).toEqual(
      [],
    );
  });
});
