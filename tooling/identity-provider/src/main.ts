import { loadConfig } from './config.js';
import { createIdentityProvider } from './provider.js';
import { loadSeed } from './seed.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
const provider = createIdentityProvider(config, loadSeed());
const server = provider.listen(config.PORT, () => {
  process.stdout.write(
    `identity provider ${config.ISSUER_URL} listening on ${config.PORT} (audience ${config.API_AUDIENCE})\n`,
  );
});

function stop(): void {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
