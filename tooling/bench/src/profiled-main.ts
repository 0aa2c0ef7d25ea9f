/**
 * Entry that stands in for a service's dist/main.js under `--profile`: Node 20 refuses --cpu-prof
 * in NODE_OPTIONS, so the V8 profiler is driven from inside. SIGUSR2 starts it (after the warm-up,
 * so start-up and warm-up are not in the profile); the profile is written when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const main = process.env.BENCH_PROFILE_MAIN;
const dir = process.env.BENCH_PROFILE_DIR;
if (!main || !dir) throw new Error('BENCH_PROFILE_MAIN and BENCH_PROFILE_DIR must be set');

const session = new Session();
session.connect();
let profiling = false;
process.on('SIGUSR2', () => {
  if (profiling) return;
  profiling = true;
  session.post('Profiler.enable', () => session.post('Profiler.start'));
});
process.on('exit', () => {
  if (!profiling) return;
  // An in-process inspector session answers synchronously, so this completes before the exit.
  session.post('Profiler.stop', (error, result) => {
    if (!error)
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the service's entry, chosen at run time
require(main);
