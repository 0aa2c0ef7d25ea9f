import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  APPS,
  APP_PORTS,
  DOCKERFILE,
  FLOW_CONSOLE,
  SERVICES,
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
      // What the images ship besides dist.
      ...APPS.flatMap((app) => [`apps/${app}/prisma/migrations`, `apps/${app}/web`]),
    ].filter((path) => existsSync(repoPath(path)));
    expect(needed.filter((path) => isIgnored(ignoreRules, path))).toEqual([]);
  });
});

describe(`${DOCKERFILE}: one for every app`, () => {
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

  it('is cut per app by the SERVICE and PORT build args, naming no app or port itself', () => {
    const text = instructions.map((instruction) => instruction.args).join('\n');
    for (const app of APPS) {
      expect(text).not.toContain(app);
      expect(text).not.toMatch(new RegExp(`\\b${APP_PORTS[app]}\\b`));
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

  it('builds the app with turbo, with a pinned Prisma schema engine path in the build stage only', () => {
    expect(stageCommands(build)).toContain('pnpm turbo run build --filter=@shop/${SERVICE}...');
    expect(envOf(build).PRISMA_SCHEMA_ENGINE_BINARY).toMatch(/^\/\S+/);
    expect(envOf(runtime)).not.toHaveProperty('PRISMA_SCHEMA_ENGINE_BINARY');
  });

  it('deploys the app with production dependencies only for the runtime stage', () => {
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

  // COPY cannot skip a source that is missing, so the build stage gathers what the app ships.
  it('gathers dist, and the migrations or pages an app has, into what the runtime copies to /app', () => {
    const gather = keywordArgs(build, 'RUN').find((args) => /\bcp\b.*\bdist\b/.test(args));
    expect(gather).toBeDefined();
    const folder = /\bmkdir\s+(\/\S+)/.exec(gather!)?.[1];
    expect(folder).toBeDefined();
    expect(gather).toContain('cd apps/${SERVICE}');
    // What each app gets is proven by the image replay (image.test.ts); here, that all are named.
    for (const path of ['dist', 'prisma/migrations', 'web'])
      expect(gather).toMatch(new RegExp(`\\s${path}\\s`));
    const fromGathered = copyInstructions(runtime.instructions).filter((copy) =>
      copy.sources.some((source) => normalise(source) === folder),
    );
    expect(fromGathered).toEqual([
      expect.objectContaining({ from: build.name, destination: './' }),
    ]);
  });

  it.each(SERVICES)('ships %s its migrations, at ../prisma/migrations from dist', (service) => {
    expect(existsSync(repoPath('apps', service, 'prisma', 'migrations'))).toBe(true);
    // service.ts: join(__dirname, '..', 'prisma', 'migrations') from dist/.
    expect(readFileSync(repoPath('apps', service, 'src', 'service.ts'), 'utf8')).toMatch(
      /join\(__dirname,\s*'\.\.',\s*'prisma',\s*'migrations'\)/,
    );
  });

  it(`ships ${FLOW_CONSOLE} its pages, at ../../web from dist/api`, () => {
    const web = repoPath('apps', FLOW_CONSOLE, 'web');
    for (const page of ['index.html', 'journey.html'])
      expect({ page, exists: existsSync(join(web, page)) }).toEqual({ page, exists: true });
    // src/api/pages.controller.ts, compiled to dist/api/: WEB_DIR = <app>/web.
    expect(
      readFileSync(repoPath('apps', FLOW_CONSOLE, 'src', 'api', 'pages.controller.ts'), 'utf8'),
    ).toMatch(/WEB_DIR = join\(__dirname,\s*'\.\.',\s*'\.\.',\s*'web'\)/);
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

  it('starts the app with node dist/main.js', () => {
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
