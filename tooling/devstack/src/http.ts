import { waitFor } from './wait';

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** One HTTP call with a JSON body in and out; the body is undefined when the response has none. */
export async function requestJson<T = unknown>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

/** Waits until GET <baseUrl>/health answers 200. */
export async function waitForHealthy(baseUrl: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await fetch(`${baseUrl}/health`)).ok, {
    timeoutMs,
    intervalMs: 100,
    description: `${baseUrl}/health to answer 200`,
  });
}
