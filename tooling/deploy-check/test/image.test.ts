import { lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ImageReplay, replayImage, type ReplayedImage } from './image';
import {
  APP_SERVICES,
  SERVICE_PORTS,
  loadDockerfile,
  productionWorkspaceClosure,
  repoPath,
  stageNamed,
  stages,
  toolingPackageNames,
  workdirOf,
  workspacePackages,
  type AppService,
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

// The three replays run side by side (each is mostly pnpm deploy, a few seconds).
const replays = new Map<AppService, Promise<ReplayedImage>>();
const temporary: ImageReplay[] = [];

beforeAll(async () => {
  for (const service of APP_SERVICES) {
    const replay = new ImageReplay(service, {
      SERVICE: service,
      PORT: String(SERVICE_PORTS[service]),
    });
    temporary.push(replay);
    replays.set(service, replayImage(replay, dockerStages));
  }
  await Promise.allSettled(replays.values());
});

afterAll(() => {
  for (const replay of temporary) replay.remove();
});

describe.each(APP_SERVICES)('the %s image, replayed from the Dockerfile', (service) => {
  let image: ReplayedImage;
  let paths: string[];

  beforeAll(async () => {
    image = await replays.get(service)!;
    paths = walk(image.app);
  });

  it('installs with the frozen lockfile from what the build stage copies before installing', () => {
    expect(image.installError).toBeUndefined();
  });

  it('holds the production workspace packages of the service and none from tooling/', () => {
    const shipped = shopPackagesIn(paths);
    expect(shipped).toEqual(productionWorkspaceClosure(`@shop/${service}`));
    expect(shipped.filter((name) => tooling.includes(name))).toEqual([]);
  });

  it('holds no copy of a tooling package, under any name or folder', () => {
    const copies = paths
      .filter((path) => path.endsWith('/package.json') && !lstatSync(path).isSymbolicLink())
      .filter((path) => {
        const { name } = JSON.parse(readFileSync(path, 'utf8')) as { name?: string };
        return name !== undefined && tooling.includes(name);
      });
    expect(copies.map((path) => relative(image.app, path))).toEqual([]);
  });

  it('is self-contained: every symlink resolves to a file inside the image', () => {
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

  it('holds its package.json, migrations and db-init.js; dist is its own build output', () => {
    expect(JSON.parse(readFileSync(join(image.app, 'package.json'), 'utf8')).name).toBe(
      `@shop/${service}`,
    );
    const migrations = paths.filter((path) =>
      /^prisma\/migrations\/[^/]+\/migration\.sql$/.test(relative(image.app, path)),
    );
    expect(migrations.length).toBeGreaterThan(0);
    expect(paths.map((path) => relative(image.app, path))).toContain('docker/db-init.js');
    // The one thing not replayed (no turbo build here): checked below through its sources.
    expect(image.replay.skippedBuildOutputs).toEqual([
      `${workdirOf(dockerStages.build)}/apps/${service}/dist`,
    ]);
  });
});

// dist is the one part of the image not replayed (no turbo build here): its sources are read.
describe.each(APP_SERVICES)('the sources compiled into the %s image', (service) => {
  it('imports no tooling package', () => {
    const byName = new Map(workspacePackages().map((pkg) => [pkg.manifest.name, pkg.dir]));
    const shipped = [`@shop/${service}`, ...productionWorkspaceClosure(`@shop/${service}`)];
    const offending: string[] = [];
    for (const name of shipped) {
      const src = repoPath(byName.get(name)!, 'src');
      for (const file of walk(src)) {
        if (!/\.ts$/.test(file) || /\.spec\.ts$/.test(file) || file.includes('/generated/'))
          continue;
        const text = readFileSync(file, 'utf8');
        for (const [, specifier] of text.matchAll(
          /(?:from\s+|import\(|require\()['"]([^'"]+)['"]/g,
        )) {
          const toolingPackage = tooling.some(
            (pkg) => specifier === pkg || specifier!.startsWith(`${pkg}/`),
          );
          const toolingFolder =
            specifier!.startsWith('.') &&
            !relative(repoPath('tooling'), resolve(dirname(file), specifier!)).startsWith('..');
          if (toolingPackage || toolingFolder)
            offending.push(`${relative(repoPath(), file)} imports ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
