/** The suite's knobs, read once from CHAOS_* variables (turbo passes them through). */
export interface ChaosConfig {
  /** Orders per second the traffic generator places. */
  ratePerSecond: number;
  /** Traffic before a fault starts, and again after it ends. */
  phaseMs: number;
  /** How long a killed component stays down (orders keep coming meanwhile). */
  faultMs: number;
  /**
   * An accepted order still PENDING this long after the fault ended (the part is back) counts as
   * lost. Consumers that rejoin their group wait out a dead member's 10 s session first.
   */
  recoveryBoundMs: number;
  /** Service log level: `warn` keeps a 2-core machine for the traffic; `info` for post-mortems. */
  serviceLogLevel: string;
  /** Keep the temp dir (service, Kafka and Postgres logs) even when every scenario passed. */
  keepLogs: boolean;
}

export function loadChaosConfig(env: NodeJS.ProcessEnv = process.env): ChaosConfig {
  return {
    ratePerSecond: positive(env, 'CHAOS_RATE', 20),
    phaseMs: positive(env, 'CHAOS_PHASE_S', 3) * 1_000,
    faultMs: positive(env, 'CHAOS_FAULT_S', 4) * 1_000,
    recoveryBoundMs: positive(env, 'CHAOS_RECOVERY_BOUND_S', 90) * 1_000,
    serviceLogLevel: env.CHAOS_LOG_LEVEL ?? 'warn',
    keepLogs: env.CHAOS_KEEP_LOGS === 'true',
  };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name}=${raw} is not a positive number`);
  return value;
}
