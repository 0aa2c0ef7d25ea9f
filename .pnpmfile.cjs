// @prisma/client declares the Prisma CLI (and TypeScript) as optional peers; pnpm links the CLI
// the apps use for `prisma generate` into the runtime client, and `pnpm deploy --prod` then ships
// ~200 MB of CLI, Studio and PGlite in every image. The runtime needs neither.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === '@prisma/client') {
        for (const peer of ['prisma', 'typescript']) {
          delete pkg.peerDependencies?.[peer];
          delete pkg.peerDependenciesMeta?.[peer];
        }
      }
      return pkg;
    },
  },
};
