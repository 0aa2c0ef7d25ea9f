import { existsSync } from 'node:fs';
import {
  APP_SERVICES,
  SERVICE_PORTS,
  copyInstructions,
  dockerfilePath,
  dockerignoreRules,
  environmentOf,
  execForm,
  isIgnored,
  loadCompose,
  loadDockerfile,
  readRepoFile,
  repoPath,
  stages,
  workspaceManifests,
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
    ]) {
      expect({ path, ignored: isIgnored(ignoreRules, path) }).toEqual({ path, ignored: true });
    }
  });
});

describe.each(APP_SERVICES)('apps/%s/Dockerfile', (name) => {
  const instructions = loadDockerfile(name);
  const allStages = stages(instructions);
  const runtime = allStages.at(-1) ?? [];
  const copies = copyInstructions(instructions);

  it('is a multi-stage build on Node 20', () => {
    expect(allStages.length).toBeGreaterThanOrEqual(2);
    for (const stage of allStages)
      expect(stage[0]!.args).toMatch(/^node:20[-.\w]*(\s+AS\s+\S+)?$/i);
  });

  it('runs the final stage as a non-root user', () => {
    const user = runtime.filter((instruction) => instruction.keyword === 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('declares a HEALTHCHECK on the service port and exposes that port', () => {
    const healthcheck = runtime.find((instruction) => instruction.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toContain('/health');
    expect(healthcheck?.args).toContain(String(SERVICE_PORTS[name]));
    const exposed = runtime
      .filter((instruction) => instruction.keyword === 'EXPOSE')
      .map((i) => i.args);
    expect(exposed).toContain(String(SERVICE_PORTS[name]));
  });

  it('exposes the port the compose file sets as PORT', () => {
    const composePort = environmentOf(loadCompose().services[name]!).PORT;
    const exposed = runtime
      .filter((instruction) => instruction.keyword === 'EXPOSE')
      .map((i) => i.args);
    expect(exposed).toContain(composePort);
  });

  it('starts the service with node dist/main.js', () => {
    const cmd = runtime.filter((instruction) => instruction.keyword === 'CMD').at(-1);
    expect(execForm(cmd!.args)).toEqual(['node', 'dist/main.js']);
  });

  it('installs with the frozen lockfile and the pinned pnpm', () => {
    const runs = instructions
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((i) => i.args);
    expect(runs.some((run) => /pnpm install\b.*--frozen-lockfile/.test(run))).toBe(true);
    const pinned = JSON.parse(readRepoFile('package.json', 'the root manifest'))
      .packageManager as string;
    expect(
      runs.some(
        (run) => run.includes(`npm i -g ${pinned}`) || run.includes(`npm install -g ${pinned}`),
      ),
    ).toBe(true);
  });

  it('builds this service with turbo, with a pinned Prisma schema engine path', () => {
    const runs = instructions
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((i) => i.args);
    expect(runs.some((run) => run.includes(`turbo run build --filter=@shop/${name}...`))).toBe(
      true,
    );
    // Inline on the build command or as an ENV of the build stage.
    const build = runs.find((run) => run.includes('turbo run build'))!;
    const stageEnv = (stages(instructions)[0] ?? [])
      .filter((instruction) => instruction.keyword === 'ENV')
      .map((instruction) => instruction.args);
    const pinned = [build, ...stageEnv].some((text) =>
      /PRISMA_SCHEMA_ENGINE_BINARY[= ]\S+/.test(text),
    );
    expect(pinned).toBe(true);
  });

  it('ships the prisma migrations next to dist, where the service looks for them', () => {
    const runs = instructions
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((i) => i.args);
    const copiesMigrations =
      runs.some(
        (run) =>
          run.includes(`apps/${name}/prisma/migrations`) && run.includes('/prisma/migrations'),
      ) ||
      copies.some((copy) => copy.sources.some((source) => source.includes('prisma/migrations')));
    expect(copiesMigrations).toBe(true);
    const runtimeCopies = copyInstructions(runtime);
    expect(runtimeCopies.some((copy) => copy.from !== undefined)).toBe(true);
  });

  it('copies only paths that exist in the repository and are not excluded by .dockerignore', () => {
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

  it('copies every workspace package.json before installing, as --frozen-lockfile needs', () => {
    const install = instructions.findIndex(
      (instruction) => instruction.keyword === 'RUN' && instruction.args.includes('pnpm install'),
    );
    const copiedBeforeInstall = copyInstructions(instructions.slice(0, install)).flatMap((copy) =>
      copy.sources.map((source) =>
        // `COPY package.json pnpm-lock.yaml ./` keeps names; `COPY apps/x/package.json apps/x/` too.
        normalise(source),
      ),
    );
    for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc']) {
      expect(copiedBeforeInstall).toContain(file);
    }
    // A lockfile resolved through .pnpmfile.cjs records its checksum; installing without it fails.
    if (readRepoFile('pnpm-lock.yaml', 'the lockfile').includes('pnpmfileChecksum:')) {
      expect(copiedBeforeInstall).toContain('.pnpmfile.cjs');
    }
    const missing = workspaceManifests().filter(
      (manifest) => !copiedBeforeInstall.includes(manifest),
    );
    expect(missing).toEqual([]);
  });

  it('is the same file as the other services apart from the service name and port', () => {
    // The manifest COPY lines name every app in all three files; the test above checks them.
    const canonical = (service: (typeof APP_SERVICES)[number]) =>
      readRepoFile(dockerfilePath(service), 'a service image')
        .split('\n')
        .filter((line) => !/^COPY \S+\/package\.json \S+$/.test(line))
        .join('\n')
        .split(service)
        .join('<service>')
        .split(String(SERVICE_PORTS[service]))
        .join('<port>');
    expect(canonical(name)).toBe(canonical('order-service'));
  });
});
