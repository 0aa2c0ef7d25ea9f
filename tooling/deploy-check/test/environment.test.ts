import {
  APP_SERVICES,
  ENV_EXAMPLE_FILE,
  REQUIRED_ENV,
  environmentOf,
  loadCompose,
  readEnvExample,
} from './repo';

const compose = loadCompose();
const provided = (name: string) => Object.keys(environmentOf(compose.services[name] ?? {}));

describe('service environment in docker-compose.yml', () => {
  it.each(APP_SERVICES)('gives %s every variable its config schema requires', (name) => {
    const missing = REQUIRED_ENV[name].filter((variable) => !provided(name).includes(variable));
    expect(missing).toEqual([]);
  });

  it(`has a ${ENV_EXAMPLE_FILE} section for each service`, () => {
    const { sections } = readEnvExample();
    for (const name of APP_SERVICES) expect(sections).toContain(name);
  });

  it.each(APP_SERVICES)(`gives %s every variable ${ENV_EXAMPLE_FILE} documents for it`, (name) => {
    const documented = readEnvExample().perService[name];
    expect(documented.length).toBeGreaterThan(0);
    const missing = documented.filter((variable) => !provided(name).includes(variable));
    expect(missing).toEqual([]);
  });

  it(`documents in ${ENV_EXAMPLE_FILE} every variable the config schemas require`, () => {
    const { perService } = readEnvExample();
    for (const name of APP_SERVICES) {
      const undocumented = REQUIRED_ENV[name].filter(
        (variable) => !perService[name].includes(variable),
      );
      expect({ service: name, undocumented }).toEqual({ service: name, undocumented: [] });
    }
  });
});
