import { loadConfig } from './config.js';
import { createIdentityProvider } from './provider.js';
import { loadSeed } from './seed.js';

const config = loadConfig();
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
