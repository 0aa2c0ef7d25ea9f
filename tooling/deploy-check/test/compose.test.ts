import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KAFKA_ADMIN, KAFKA_PRINCIPALS } from '@shop/kafka-access';
import {
  APPS,
  APP_PORTS,
  DEVSTACK_KAFKA_FILE,
  DOCKERFILE,
  FLOW_CONSOLE,
  IDENTITY_PROVIDER,
  IDENTITY_PROVIDER_DOCKERFILE,
  INFRA_SERVICES,
  REPO_ROOT,
  SCALABLE_SERVICES,
  SERVICES,
  argsOf,
  buildOf,
  commandArgv,
  consoleUrlsVariable,
  dependsOnConditions,
  environmentOf,
  execForm,
  healthcheckText,
  kafkaPasswordVariable,
  loadCompose,
  loadDockerfile,
  localStackKafkaVersion,
  portMappings,
  composeText,
  COMPOSE_TEST_ENV,
  repoPath,
  stages,
  startScript,
  workspacePackages,
} from './repo';

const exec = promisify(execFile);

const compose = loadCompose();
const service = (name: string) => {
  const found = compose.services?.[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};

/** The database role of a service, as packages/database names it: order-service -> order_service. */
const roleOf = (name: string) => name.replace(/-/g, '_');

describe('docker-compose.yml', () => {
  it('publishes ports only on 127.0.0.1, and Postgres not at all', () => {
    const published = Object.entries(loadCompose().services).flatMap(([name, definition]) =>
      portMappings(definition).map((port) => ({ name, ...port })),
    );
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatchObject({ hostIp: '127.0.0.1' });
    expect(published.filter((port) => port.name === 'postgres')).toEqual([]);
  });

  it('publishes the API document of the order service only', () => {
    const docs = Object.fromEntries(
      SERVICES.map((name) => [name, environmentOf(service(name)).API_DOCS ?? 'true']),
    );
    expect(docs).toEqual({
      'order-service': 'true',
      'inventory-service': 'false',
      'notification-service': 'false',
    });
  });

  it('takes every password from .env: none is written in the file', () => {
    const text = composeText();
    for (const name of Object.keys(COMPOSE_TEST_ENV)) {
      expect(text).toContain(`\${${name}:?`);
    }
    expect(text).not.toMatch(/postgres:\/\/[^:\s]+:(?!\$\{)[^@\s]+@/);
    expect(text).not.toMatch(/POSTGRES_PASSWORD: (?!\$\{)/);
  });

  it('uses the compose specification without the obsolete version key', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('runs the local identity provider from its own image, published on 127.0.0.1:4000, with a healthcheck', () => {
    const idp = service(IDENTITY_PROVIDER);
    expect(buildOf(idp)).toMatchObject({ context: '.', dockerfile: IDENTITY_PROVIDER_DOCKERFILE });
    const dockerfile = readFileSync(repoPath(IDENTITY_PROVIDER_DOCKERFILE), 'utf8');
    // The same start command as the local stack (tooling/devstack/src/identity-provider.ts).
    expect(dockerfile).toContain('CMD ["node", "dist/main.js"]');
    expect(dockerfile).toContain('turbo prune @shop/identity-provider');
    expect(portMappings(idp)).toEqual([
      expect.objectContaining({ hostIp: '127.0.0.1', published: '4000', target: 4000 }),
    ]);
    expect(healthcheckText(idp)).toContain('/.well-known/openid-configuration');
  });

  it('has every app trust the identity provider: its issuer as on the host, its keys and tokens by compose name', () => {
    const issuer = environmentOf(service(IDENTITY_PROVIDER)).ISSUER_URL;
    expect(issuer).toBe('http://localhost:4000');
    for (const name of APPS) expect(environmentOf(service(name)).AUTH_ISSUER_URL).toBe(issuer);
    for (const name of SERVICES) {
      expect(environmentOf(service(name)).AUTH_JWKS_URL).toBe('http://identity-provider:4000/jwks');
    }
    const consoleEnv = environmentOf(service(FLOW_CONSOLE));
    expect(consoleEnv.AUTH_TOKEN_URL).toBe('http://identity-provider:4000/token');
    const seed = JSON.parse(
      readFileSync(repoPath('tooling/identity-provider/seed.json'), 'utf8'),
    ) as {
      clients: Array<{ clientId: string; secret?: string }>;
    };
    const seeded = seed.clients.find((client) => client.clientId === consoleEnv.AUTH_CLIENT_ID);
    expect(seeded?.secret).toBe(consoleEnv.AUTH_CLIENT_SECRET);
    expect(dependsOnConditions(service(FLOW_CONSOLE))[IDENTITY_PROVIDER]).toBe('service_healthy');
  });

  it('defines kafka, postgres, maildev, db-init, the three services and the flow console', () => {
    expect(Object.keys(compose.services ?? {})).toEqual(
      expect.arrayContaining([...INFRA_SERVICES, ...APPS]),
    );
  });

  it('knows every app under apps/ (the checks below cover each)', () => {
    const apps = readdirSync(repoPath('apps')).filter((dir) =>
      existsSync(repoPath('apps', dir, 'package.json')),
    );
    expect(apps.sort()).toEqual([...APPS].sort());
  });

  it(`runs the same Kafka version as the local stack (${DEVSTACK_KAFKA_FILE})`, () => {
    const version = localStackKafkaVersion();
    expect(service('kafka').image).toBe(`apache/kafka:${version}`);
  });

  it('runs Kafka as a single KRaft node with topics created by kafka-init only', () => {
    const env = environmentOf(service('kafka'));
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_LISTENERS).toContain('CLIENT://:9092');
    expect(env.KAFKA_LISTENERS).toContain('CONTROLLER://:9093');
    expect(env.KAFKA_ADVERTISED_LISTENERS).toContain('CLIENT://kafka:9092');
    expect(env.KAFKA_CONTROLLER_LISTENER_NAMES).toBe('CONTROLLER');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toMatch(new RegExp(`^${env.KAFKA_NODE_ID}@`));
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe('1');
    expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe('1');
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  it('lets no client in without SASL, and nothing happen that no ACL allows', () => {
    const env = environmentOf(service('kafka'));
    const protocols = (env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '')
      .split(',')
      .map((pair) => pair.split(':')[1]);
    expect(protocols.length).toBeGreaterThan(0);
    expect(protocols.filter((protocol) => protocol !== 'SASL_PLAINTEXT')).toEqual([]);
    expect(env.KAFKA_SASL_ENABLED_MECHANISMS).toBe('SCRAM-SHA-256');
    expect(env.KAFKA_AUTHORIZER_CLASS_NAME).toBe(
      'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    );
    expect(env.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND).toBe('false');
    expect(env.KAFKA_SUPER_USERS).toBe(`User:${KAFKA_ADMIN};User:controller`);
  });

  it('authenticates the broker to itself with passwords from .env (SCRAM as admin, PLAIN to its controller)', () => {
    const env = environmentOf(service('kafka'));
    expect(env.KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL).toBe('SCRAM-SHA-256');
    expect(env.KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___256_SASL_JAAS_CONFIG).toContain(
      `username="${KAFKA_ADMIN}" password="${COMPOSE_TEST_ENV.KAFKA_PASSWORD_ADMIN}"`,
    );
    expect(env.KAFKA_LISTENER_NAME_EXTERNAL_SCRAM___SHA___256_SASL_JAAS_CONFIG).toContain(
      'ScramLoginModule required',
    );
    const controller = COMPOSE_TEST_ENV.KAFKA_PASSWORD_CONTROLLER;
    expect(env.KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL).toBe('PLAIN');
    expect(env.KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS).toBe('PLAIN');
    expect(env.KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG).toContain(
      `username="controller" password="${controller}" user_controller="${controller}";`,
    );
  });

  it('formats the broker with a SCRAM user for the admin and every principal of the access table, passwords from .env', () => {
    const kafka = service('kafka');
    const env = environmentOf(kafka);
    const users = Object.keys(env)
      .filter((name) => name.startsWith('SCRAM_PASSWORD_'))
      .map((name) => name.slice('SCRAM_PASSWORD_'.length).toLowerCase().replace(/_/g, '-'));
    expect(users.sort()).toEqual([KAFKA_ADMIN, ...KAFKA_PRINCIPALS].sort());
    for (const user of users) {
      const variable = `SCRAM_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
      expect(env[variable]).toBe(COMPOSE_TEST_ENV[kafkaPasswordVariable(user)]);
    }
    const script = 'docker/kafka-start.sh';
    expect(commandArgv(kafka.command)).toEqual(['bash', `/opt/shop/${script.split('/')[1]}`]);
    expect((kafka.volumes ?? []).map(String)).toContain(`./${script}:/opt/shop/kafka-start.sh:ro`);
    const text = readFileSync(repoPath(script), 'utf8');
    expect(text).toContain('--add-scram');
    expect(text).toContain('exec /etc/kafka/docker/run');
    expect(env.KAFKA_LOG_DIRS).toBeDefined();
  });

  it('maps every Kafka listener name to a security protocol', () => {
    const env = environmentOf(service('kafka'));
    const mapped = (env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP ?? '')
      .split(',')
      .map((pair) => pair.split(':')[0]);
    const used = [env.KAFKA_LISTENERS, env.KAFKA_ADVERTISED_LISTENERS]
      .flatMap((listeners) => (listeners ?? '').split(','))
      .map((listener) => listener.split('://')[0]);
    for (const name of used) expect(mapped).toContain(name);
  });

  it('lets a developer on the host reach Kafka on the advertised external listener', () => {
    const env = environmentOf(service('kafka'));
    const external = /EXTERNAL:\/\/localhost:(\d+)/.exec(env.KAFKA_ADVERTISED_LISTENERS ?? '');
    expect(external).not.toBeNull();
    const port = external![1];
    expect(env.KAFKA_LISTENERS).toContain(`EXTERNAL://:${port}`);
    expect(portMappings(service('kafka'))).toContainEqual({
      target: Number(port),
      published: port,
      hostIp: '127.0.0.1',
    });
  });

  it('gives kafka, postgres and maildev a healthcheck', () => {
    expect(healthcheckText(service('kafka'))).toContain(
      '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 --command-config /tmp/admin-client.properties',
    );
    expect(healthcheckText(service('postgres'))).toContain('pg_isready');
    expect(healthcheckText(service('maildev'))).not.toBe('');
  });

  it('keeps Postgres data in a named volume', () => {
    const volumes = (service('postgres').volumes ?? []).map(String);
    const named = volumes
      .map((volume) => volume.split(':')[0]!)
      .filter((source) => !source.startsWith('.'));
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(compose.volumes ?? {}).toHaveProperty(name);
  });

  it('runs db-init once, after Postgres is healthy, with a script the order-service image contains', () => {
    const dbInit = service('db-init');
    expect(dependsOnConditions(dbInit).postgres).toBe('service_healthy');
    expect(dbInit.restart ?? 'no').toBe('no');
    // The same build and tag as order-service, so both name one image.
    expect(buildOf(dbInit)).toEqual(buildOf(service('order-service')));
    expect(dbInit.image).toBe(service('order-service').image);
    const argv = commandArgv(dbInit.command) ?? [];
    const script = argv.find((arg) => arg.endsWith('.js'));
    expect(script).toBeDefined();
    expect(existsSync(repoPath(script!))).toBe(true);
    expect(readFileSync(repoPath(script!), 'utf8')).toContain('bootstrapDatabase');
    expect(environmentOf(dbInit).ADMIN_DATABASE_URL).toMatch(
      /^postgres(ql)?:\/\/[^@]+@postgres:5432\//,
    );
  });

  it('runs kafka-init once, after Kafka is healthy, as the admin, with a script the order-service image contains', () => {
    const kafkaInit = service('kafka-init');
    expect(dependsOnConditions(kafkaInit).kafka).toBe('service_healthy');
    expect(kafkaInit.restart ?? 'no').toBe('no');
    expect(buildOf(kafkaInit)).toEqual(buildOf(service('order-service')));
    expect(kafkaInit.image).toBe(service('order-service').image);
    const script = (commandArgv(kafkaInit.command) ?? []).find((arg) => arg.endsWith('.js'));
    expect(script).toBeDefined();
    expect(readFileSync(repoPath(script!), 'utf8')).toContain('provisionCluster');
    expect(environmentOf(kafkaInit)).toEqual({
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_ADMIN_PASSWORD: COMPOSE_TEST_ENV.KAFKA_PASSWORD_ADMIN,
    });
  });

  describe.each(APPS)('%s', (name) => {
    it(`is built from the one ${DOCKERFILE}, with the repository as context and its SERVICE and PORT`, () => {
      expect(buildOf(service(name))).toEqual({
        context: '.',
        dockerfile: DOCKERFILE,
        args: { SERVICE: name, PORT: String(APP_PORTS[name]) },
      });
      // SERVICE names the app folder whose package is @shop/<SERVICE> (turbo prune's target).
      const app = workspacePackages().find((pkg) => pkg.dir === `apps/${name}`);
      expect(app?.manifest.name).toBe(`@shop/${name}`);
      expect(buildOf(service(name)).args.PORT).toBe(environmentOf(service(name)).PORT);
    });

    it(`passes every build arg ${DOCKERFILE} requires, and no other`, () => {
      const required = new Set<string>();
      const declared = new Set<string>();
      for (const stage of stages(loadDockerfile()))
        for (const [arg, fallback] of Object.entries(argsOf(stage))) {
          declared.add(arg);
          if (fallback === undefined) required.add(arg);
        }
      const passed = Object.keys(buildOf(service(name)).args);
      expect(passed.filter((arg) => !declared.has(arg))).toEqual([]);
      expect([...required].filter((arg) => !passed.includes(arg))).toEqual([]);
    });

    it('listens on its own port and the healthcheck probes that port', () => {
      const env = environmentOf(service(name));
      expect(env.PORT).toBe(String(APP_PORTS[name]));
      expect(healthcheckText(service(name))).toContain(`http://127.0.0.1:${env.PORT}/health`);
    });

    it('publishes its port (ephemeral for the scalable services, fixed for the others)', () => {
      const ports = portMappings(service(name));
      expect(ports.map((port) => port.target)).toContain(APP_PORTS[name]);
      if ((SCALABLE_SERVICES as readonly string[]).includes(name)) {
        // `docker compose up --scale <name>=2` needs no fixed host port.
        for (const port of ports) expect(port.published).toBeUndefined();
      } else {
        const port = APP_PORTS[name];
        expect(ports).toContainEqual({
          target: port,
          published: String(port),
          hostIp: '127.0.0.1',
        });
      }
    });

    it('reaches Kafka by its compose service name', () => {
      expect(environmentOf(service(name)).KAFKA_BROKERS).toBe('kafka:9092');
    });

    it('logs in to Kafka as its own principal, with its password from .env, once kafka-init is done', () => {
      const env = environmentOf(service(name));
      expect(KAFKA_PRINCIPALS).toContain(name);
      expect(env.KAFKA_SASL_USERNAME).toBe(name);
      expect(env.KAFKA_SASL_PASSWORD).toBe(COMPOSE_TEST_ENV[kafkaPasswordVariable(name)]);
      expect(dependsOnConditions(service(name))['kafka-init']).toBe(
        'service_completed_successfully',
      );
    });

    it('restarts unless stopped, runs under an init process, and has time to stop gracefully', () => {
      expect(service(name).restart).toBe('unless-stopped');
      expect(service(name).init).toBe(true);
      expect(service(name).stop_grace_period).toBe(service('order-service').stop_grace_period);
      expect(service(name).stop_grace_period).toMatch(/^\d+s$/);
    });

    it('starts with the same command as the local stack (the image CMD, node dist/main.js)', () => {
      const runtime = stages(loadDockerfile()).at(-1)!;
      const cmd = runtime.instructions
        .filter((instruction) => instruction.keyword === 'CMD')
        .at(-1);
      expect(cmd).toBeDefined();
      const imageCommand = execForm(cmd!.args);
      expect(imageCommand).toEqual(startScript(name).split(/\s+/));
      expect(imageCommand).toEqual(['node', 'dist/main.js']);
      const override = commandArgv(service(name).command);
      if (override !== undefined) expect(override).toEqual(imageCommand);
      expect(service(name).entrypoint).toBeUndefined();
    });
  });

  describe.each(SERVICES)('%s, a service with a database', (name) => {
    it('waits for healthy Kafka and Postgres and for db-init to complete', () => {
      const conditions = dependsOnConditions(service(name));
      expect(conditions.kafka).toBe('service_healthy');
      expect(conditions.postgres).toBe('service_healthy');
      expect(conditions['db-init']).toBe('service_completed_successfully');
      if (name === 'notification-service') expect(conditions.maildev).toBe('service_healthy');
    });

    it('reaches Postgres (as its own role, and as the schema owner to migrate) and SMTP by their compose service names', () => {
      const env = environmentOf(service(name));
      const url = new URL(env.DATABASE_URL ?? '');
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      expect(url.pathname).toBe('/shop');
      expect(url.username).toBe(roleOf(name));
      const owner = new URL(env.MIGRATION_DATABASE_URL ?? '');
      expect(`${owner.host}${owner.pathname}`).toBe('postgres:5432/shop');
      expect(owner.username).toBe(roleOf(name).replace(/_service$/, '_owner'));
      // Each password is the .env variable of that role, never a literal in the file.
      expect(url.password).toBe(COMPOSE_TEST_ENV[`DB_PASSWORD_${url.username.toUpperCase()}`]);
      expect(owner.password).toBe(COMPOSE_TEST_ENV[`DB_PASSWORD_${owner.username.toUpperCase()}`]);
      if (name === 'notification-service') expect(env.SMTP_URL).toBe('smtp://maildev:1025');
    });
  });

  describe(`${FLOW_CONSOLE}, the read-only observer`, () => {
    const flowConsole = () => service(FLOW_CONSOLE);

    it('starts once Kafka, the identity provider and every service are healthy, and needs no database', () => {
      const conditions = dependsOnConditions(flowConsole());
      expect(conditions).toEqual({
        kafka: 'service_healthy',
        'kafka-init': 'service_completed_successfully',
        [IDENTITY_PROVIDER]: 'service_healthy',
        ...Object.fromEntries(SERVICES.map((name) => [name, 'service_healthy'])),
      });
      expect(environmentOf(flowConsole())).not.toHaveProperty('DATABASE_URL');
    });

    it.each(SERVICES)(
      'finds %s by its compose service name (every replica, when scaled)',
      (name) => {
        const urls = environmentOf(flowConsole())[consoleUrlsVariable(name)];
        expect(urls).toBe(`http://${name}:${APP_PORTS[name]}`);
      },
    );

    it('reads Kafka in its own consumer group', () => {
      const groupId = environmentOf(flowConsole()).KAFKA_GROUP_ID;
      expect(groupId).toBe(FLOW_CONSOLE);
      for (const name of SERVICES)
        expect(environmentOf(service(name)).KAFKA_GROUP_ID).not.toBe(groupId);
    });
  });
});

// Debian's docker-compose 1.29 (`apt-get install docker-compose`) parses and validates a compose
// file offline; no engine needed. The checks above read the YAML themselves: this one is compose's.
describe('docker-compose.yml, as docker-compose reads it', () => {
  // Variables from the test's env only: an empty --env-file keeps a developer's .env out.
  const emptyEnvFile = join(tmpdir(), `compose-${process.pid}.env`);
  beforeAll(() => writeFileSync(emptyEnvFile, ''));
  afterAll(() => rmSync(emptyEnvFile, { force: true }));
  const compose = (args: string[], env: Record<string, string> = { ...COMPOSE_TEST_ENV }) =>
    exec('docker-compose', ['--env-file', emptyEnvFile, '-f', 'docker-compose.yml', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    }).catch((error: Error & { code?: string | number; stderr?: string }) => {
      if (error.code === 'ENOENT')
        throw new Error(
          'docker-compose is not installed: apt-get install -y docker-compose (Debian 1.29 validates offline)',
        );
      throw new Error(`docker-compose ${args.join(' ')} failed: ${error.stderr ?? error.message}`);
    });

  it('is valid (docker-compose config -q)', async () => {
    await compose(['config', '-q']);
  });

  it('refuses to start without the passwords of .env, naming the variable', async () => {
    await expect(compose(['config', '-q'], {})).rejects.toThrow(
      /POSTGRES_PASSWORD|DB_PASSWORD_|KAFKA_PASSWORD_/,
    );
  });

  it('defines the services these checks read', async () => {
    const { stdout } = await compose(['config', '--services']);
    expect(stdout.trim().split('\n').sort()).toEqual(Object.keys(loadCompose().services).sort());
  });
});
