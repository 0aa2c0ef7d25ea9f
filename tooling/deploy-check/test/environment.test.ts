import {
  APPS,
  CONSOLE_CONFIG_FILE,
  ENV_EXAMPLE_FILE,
  FLOW_CONSOLE,
  REQUIRED_ENV,
  SERVICES,
  consoleConfigKeys,
  environmentOf,
  loadCompose,
  readEnvExample,
} from './repo';

const compose = loadCompose();
const provided = (name: string) => Object.keys(environmentOf(compose.services[name] ?? {}));

describe('app environment in docker-compose.yml', () => {
  it.each(APPS)('gives %s every variable its config schema requires', (name) => {
    const missing = REQUIRED_ENV[name].filter((variable) => !provided(name).includes(variable));
    expect(missing).toEqual([]);
  });

  it(`has a ${ENV_EXAMPLE_FILE} section for each service`, () => {
    const { sections } = readEnvExample();
    for (const name of SERVICES) expect(sections).toContain(name);
  });

  it.each(SERVICES)(`gives %s every variable ${ENV_EXAMPLE_FILE} documents for it`, (name) => {
    const documented = readEnvExample().perService[name];
    expect(documented.length).toBeGreaterThan(0);
    const missing = documented.filter((variable) => !provided(name).includes(variable));
    expect(missing).toEqual([]);
  });

  it(`documents in ${ENV_EXAMPLE_FILE} every variable the service config schemas require`, () => {
    const { perService } = readEnvExample();
    for (const name of SERVICES) {
      const undocumented = REQUIRED_ENV[name].filter(
        (variable) => !perService[name].includes(variable),
      );
      expect({ service: name, undocumented }).toEqual({ service: name, undocumented: [] });
    }
  });

  // zod drops keys a schema does not name: a misspelt URL variable would leave the console
  // probing 127.0.0.1 inside its container, with no error.
  it(`gives ${FLOW_CONSOLE} only variables its config schema reads (${CONSOLE_CONFIG_FILE})`, () => {
    const keys = consoleConfigKeys();
    expect(keys).toEqual(expect.arrayContaining([...REQUIRED_ENV[FLOW_CONSOLE]]));
    expect(provided(FLOW_CONSOLE).filter((variable) => !keys.includes(variable))).toEqual([]);
  });
});
