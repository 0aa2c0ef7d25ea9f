import type { Pool } from 'pg';

/**
 * A connection that Postgres drops (restart, pg_terminate_backend) emits 'error' on its client; with
 * no listener that would crash the process. The query that was running fails on its own and is
 * retried by its caller; the pool replaces the connection. Applies to checked-out clients too,
 * which the pool's own 'error' event does not cover.
 */
export function survivesDroppedConnections(
  pool: Pool,
  onError: (error: Error) => void = () => undefined,
): void {
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
}
