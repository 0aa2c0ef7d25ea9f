import { createHash } from 'node:crypto';

/** Distinct SQL texts one process names; texts past it run unnamed, as before. */
export const MAX_NAMED_STATEMENTS = 200;

/**
 * Gives each distinct SQL text a stable name, so `pg` prepares it once per connection: Postgres
 * then skips parsing and analysis on every later call, and after five executions plans it once
 * (a generic plan). The order insert took 422 µs of backend CPU unnamed and 188 µs named
 * (`node tooling/bench/dist/prepared-statement-cost.js`, see docs/BENCHMARKS.md).
 *
 * A named statement stays prepared for the connection's life and `pg` never deallocates it, so
 * only the first `limit` texts get names: a query whose text varies with its input (an IN list of
 * varying length) cannot grow every connection without bound.
 */
export function statementNamer(
  limit = MAX_NAMED_STATEMENTS,
): (query: { sql: string }) => string | undefined {
  const names = new Map<string, string>();
  return ({ sql }) => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= limit) return known;
    const name = `q_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
    names.set(sql, name);
    return name;
  };
}
