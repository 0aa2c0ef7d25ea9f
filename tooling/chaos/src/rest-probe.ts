import { request as httpRequest } from 'node:http';
import type { Pool } from 'pg';
import { SERVICE_DATABASES } from '@shop/database';
import { tableContents } from '@shop/devstack';

/** A request exactly as written: any method, any headers, any body bytes. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export type RawAnswer =
  | { kind: 'answer'; status: number; contentType: string; body: string }
  | { kind: 'no-answer'; error: string };

const TIMEOUT_MS = 10_000;

/** Sends with node:http rather than fetch, which would refuse or rewrite the odder requests. */
export function sendRaw(baseUrl: string, raw: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const request = httpRequest(
      new URL(raw.path, baseUrl),
      { method: raw.method, headers: raw.headers, timeout: TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            kind: 'answer',
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', (error) => resolve({ kind: 'no-answer', error: error.message }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve({ kind: 'no-answer', error: error.message }));
    if (raw.body !== undefined) request.write(raw.body);
    request.end();
  });
}

/** A 4xx whose body is a JSON object: what the API promises for bad input. */
export function isJsonClientError(answer: RawAnswer): boolean {
  if (answer.kind !== 'answer' || answer.status < 400 || answer.status > 499) return false;
  if (!answer.contentType.includes('application/json')) return false;
  try {
    const body: unknown = JSON.parse(answer.body);
    return typeof body === 'object' && body !== null;
  } catch {
    return false;
  }
}

/**
 * Every table of every service's schema, row by row: a bad request must change none of them.
 * Of a notification, only what an email is: sending one left deferred by an earlier scenario's
 * killed sender moves its bookkeeping columns meanwhile.
 */
export function serviceTables(pool: Pool): Promise<Record<string, string>> {
  return tableContents(
    async (sql) => (await pool.query(sql)).rows,
    SERVICE_DATABASES.map((database) => database.schema),
    {
      'notifications.notifications':
        '(t.id, t.event_id, t.order_id, t.type, t.recipient, t.subject, t.body)::text',
    },
  );
}
