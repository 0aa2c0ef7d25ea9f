/** Runs one SQL statement and returns its rows: a pg Pool's or a Prisma client's raw query. */
export type RunQuery = (sql: string) => Promise<Array<Record<string, unknown>>>;

/**
 * Every table of these schemas as "<rows> rows <md5 of every row, sorted>": equal before and
 * after means nothing was inserted, deleted or updated (a row count alone misses an update).
 * Outbox rows are compared by their event, not by when the relay marked them sent.
 */
export async function tableContents(
  run: RunQuery,
  schemas: readonly string[],
  /** Per "schema.table", the part of a row to compare (over `t`), when background work may
   * move the rest, e.g. a mail dispatcher's bookkeeping columns. */
  rowPart: Readonly<Record<string, string>> = {},
): Promise<Record<string, string>> {
  const quoted = schemas.map((schema) => `'${schema.replace(/'/g, "''")}'`).join(', ');
  const tables = await run(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_schema IN (${quoted}) AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
  );
  const contents: Record<string, string> = {};
  for (const { schema, name } of tables as Array<{ schema: string; name: string }>) {
    const part =
      rowPart[`${schema}.${name}`] ??
      // The relay marks rows sent in the background: an outbox row is its event.
      (name === 'outbox_events'
        ? '(t.id, t.event_id, t.topic, t.message_key, t.payload)::text'
        : 't::text');
    const [row] = await run(
      `SELECT count(*)::int AS rows,
              coalesce(md5(string_agg(${part}, E'\\n' ORDER BY ${part})), '') AS digest
         FROM "${schema}"."${name}" t`,
    );
    contents[`${schema}.${name}`] = `${String(row?.rows)} rows ${String(row?.digest)}`;
  }
  return contents;
}
