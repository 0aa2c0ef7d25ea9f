import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { BUILD_STAND_IN, ImageReplay, replayImage, type ReplayedImage } from './image';
import {
  APPS,
  APP_PORTS,
  FLOW_CONSOLE,
  SERVICES,
  isService,
  loadDockerfile,
  productionWorkspaceClosure,
  repoPath,
  stageNamed,
  stages,
  toolingPackageNames,
  workspacePackages,
  type App,
} from './repo';

const instructions = loadDockerfile();
const dockerStages = {
  prune: stageNamed(instructions, 'prune'),
  build: stageNamed(instructions, 'build'),
  runtime: stages(instructions).at(-1)!,
};
const tooling = toolingPackageNames();

/** Every path under root; symlinks are listed, not followed. */
function walk(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      found.push(path);
      if (entry.isDirectory()) visit(path);
    }
  };
  visit(root);
  return found;
}

/** `node_modules/@shop/<name>` and pnpm's `.pnpm/@shop+<name>@...` entries, as package names. */
function shopPackagesIn(paths: string[]): string[] {
  const names = new Set<string>();
  for (const path of paths) {
    const linked = /node_modules\/@shop\/([^/]+)$/.exec(path);
    const stored = /node_modules\/\.pnpm\/@shop\+([^@/]+)@[^/]*$/.exec(path);
    const name = linked?.[1] ?? stored?.[1];
    if (name) names.add(`@shop/${name}`);
  }
  return [...names].sort();
}

// The replays run side by side (each is mostly turbo prune and pnpm deploy, seconds each).
const replays = new Map<App, Promise<ReplayedImage>>();
const temporary: ImageReplay[] = [];

beforeAll(async () => {
  for (const app of APPS) {
    const replay = new ImageReplay(app, { SERVICE: app, PORT: String(APP_PORTS[app]) });
    temporary.push(replay);
    replays.set(app, replayImage(replay, dockerStages));
  }
  await Promise.allSettled(replays.values());
}, 300_000);

afterAll(() => {
  for (const replay of temporary) replay.remove();
});

/** The replayed image of an app and its paths relative to /app. */
function imageOf(app: App): () => { image: ReplayedImage; paths: string[]; files: string[] } {
  let state: { image: ReplayedImage; paths: string[]; files: string[] } | undefined;
  beforeAll(async () => {
    const image = await replays.get(app)!;
    const paths = walk(image.app);
    state = { image, paths, files: paths.map((path) => relative(image.app, path)) };
  });
  return () => state!;
}

describe.each(APPS)('the %s image, replayed from the Dockerfile', (app) => {
  const replayed = imageOf(app);

  it('installs with the frozen lockfile from what the build stage copies before installing', () => {
    expect(replayed().image.installError).toBeUndefined();
  });

  it('holds the production workspace packages of the app and none from tooling/', () => {
    const shipped = shopPackagesIn(replayed().paths);
    expect(shipped).toEqual(productionWorkspaceClosure(`@shop/${app}`));
    expect(shipped.filter((name) => tooling.includes(name))).toEqual([]);
  });

  it('holds no copy of a tooling package, under any name or folder', () => {
    const { image, paths } = replayed();
    const copies = paths
      .filter((path) => path.endsWith('/package.json') && !lstatSync(path).isSymbolicLink())
      .filter((path) => {
        const { name } = JSON.parse(readFileSync(path, 'utf8')) as { name?: string };
        return name !== undefined && tooling.includes(name);
      });
    expect(copies.map((path) => relative(image.app, path))).toEqual([]);
  });

  it('is self-contained: every symlink resolves to a file inside the image', () => {
    const { image, paths } = replayed();
    const escaping = paths
      .filter((path) => lstatSync(path).isSymbolicLink())
      .filter((path) => {
        try {
          return relative(image.app, realpathSync(path)).startsWith('..');
        } catch {
          return true; // dangling
        }
      });
    expect(escaping.map((path) => relative(image.app, path))).toEqual([]);
  });

  it(`holds its package.json, node_modules, dist, db-init.js, kafka-init.js and ${isService(app) ? 'prisma/' : 'web/'}, nothing else`, () => {
    const { image, files } = replayed();
    expect(files.filter((file) => !file.includes('/')).sort()).toEqual(
      ['dist', 'docker', 'node_modules', 'package.json', isService(app) ? 'prisma' : 'web'].sort(),
    );
    expect(JSON.parse(readFileSync(join(image.app, 'package.json'), 'utf8')).name).toBe(
      `@shop/${app}`,
    );
    expect(files).toContain('docker/db-init.js');
    expect(files).toContain('docker/kafka-init.js');
  });

  it("holds the build's dist where the start command runs it (dist/main.js)", () => {
    // The replay writes a stand-in where the turbo build writes (its sources are checked below).
    expect(readFileSync(join(replayed().image.app, 'dist', 'main.js'), 'utf8')).toBe(
      BUILD_STAND_IN,
    );
  });
});

describe('the order-service image: the one-shot compose jobs it runs', () => {
  const replayed = imageOf('order-service');

  it.each([
    ['docker/db-init.js', '@shop/database'],
    ['docker/kafka-init.js', '@shop/kafka-access'],
  ])('can run %s: the package it requires (%s) is a direct dependency', (script, pkg) => {
    const { image, files } = replayed();
    expect(readFileSync(join(image.app, script), 'utf8')).toContain(`require('${pkg}')`);
    expect(files).toContain(`node_modules/${pkg}`);
  });
});

describe.each(SERVICES)('the %s image: its database', (service) => {
  const replayed = imageOf(service);

  it('holds every committed migration under prisma/migrations, and nothing else of prisma/', () => {
    const { files } = replayed();
    const committed = readdirSync(repoPath('apps', service, 'prisma', 'migrations'));
    const shipped = files.filter((file) => file.startsWith('prisma/'));
    expect(shipped.filter((file) => !file.startsWith('prisma/migrations'))).toEqual([]);
    const folders = shipped.filter((file) => /^prisma\/migrations\/[^/]+$/.test(file));
    expect(folders.map((file) => file.slice('prisma/migrations/'.length)).sort()).toEqual(
      committed.sort(),
    );
    expect(shipped.filter((file) => file.endsWith('/migration.sql')).length).toBeGreaterThan(0);
  });
});

describe(`the ${FLOW_CONSOLE} image: its pages`, () => {
  const replayed = imageOf(FLOW_CONSOLE);

  it('holds the pages dist serves from <app>/web (index.html, journey.html and their assets)', () => {
    const { files } = replayed();
    expect(files).toEqual(expect.arrayContaining(['web/index.html', 'web/journey.html']));
    const pages = readdirSync(repoPath('apps', FLOW_CONSOLE, 'web')).map((file) => `web/${file}`);
    expect(files.filter((file) => file.startsWith('web/')).sort()).toEqual(pages.sort());
  });
});

/** Each import specifier of the TypeScript sources a package compiles into dist. */
function importsOf(dir: string): Array<{ file: string; specifier: string }> {
  const found: Array<{ file: string; specifier: string }> = [];
  for (const file of walk(repoPath(dir, 'src'))) {
    if (!/\.ts$/.test(file) || /\.spec\.ts$/.test(file) || file.includes('/generated/')) continue;
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from\s+|import\(|require\()['"]([^'"]+)['"]/g))
      found.push({ file, specifier: specifier! });
  }
  return found;
}

// dist is the one part of the image not replayed (no turbo build here): its sources are read.
describe.each(APPS)('the sources compiled into the %s image', (app) => {
  const byName = new Map(workspacePackages().map((pkg) => [pkg.manifest.name, pkg.dir]));
  const shipped = [`@shop/${app}`, ...productionWorkspaceClosure(`@shop/${app}`)];

  it('imports no tooling package', () => {
    const offending: string[] = [];
    for (const name of shipped) {
      for (const { file, specifier } of importsOf(byName.get(name)!)) {
        const toolingPackage = tooling.some(
          (pkg) => specifier === pkg || specifier.startsWith(`${pkg}/`),
        );
        const toolingFolder =
          specifier.startsWith('.') &&
          !relative(repoPath('tooling'), resolve(dirname(file), specifier)).startsWith('..');
        if (toolingPackage || toolingFolder)
          offending.push(`${relative(repoPath(), file)} imports ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('imports workspace code only from packages/ it ships, never across folders', () => {
    const offending: string[] = [];
    for (const name of shipped) {
      const dir = byName.get(name)!;
      for (const { file, specifier } of importsOf(dir)) {
        const workspace = /^(@shop\/[^/]+)/.exec(specifier)?.[1];
        const shippedFromPackages =
          workspace === name ||
          (shipped.includes(workspace!) && byName.get(workspace!)!.startsWith('packages/'));
        const escapes =
          specifier.startsWith('.') &&
          relative(repoPath(dir), resolve(dirname(file), specifier)).startsWith('..');
        if ((workspace !== undefined && !shippedFromPackages) || escapes)
          offending.push(`${relative(repoPath(), file)} imports ${specifier}`);
      }
    }
    expect(offending).toEqual([]);
    for (const name of shipped.slice(1)) expect(byName.get(name)).toMatch(/^packages\//);
  });
});
