import {
  badRequestCorpus,
  exampleRequests,
  rejectionProblem,
  type Answer,
  type ApiRequest,
  type BadRequest,
  type CorpusCredentials,
  type OpenApiDocument,
  type ServiceKey,
} from './bad-requests';

const NO_PATHS: OpenApiDocument = { openapi: '3.0.0', paths: {} };

/** A service's OpenAPI document, as it serves it. */
export async function fetchOpenApi(baseUrl: string): Promise<OpenApiDocument> {
  const response = await fetch(`${baseUrl}/docs/openapi.json`);
  if (!response.ok) throw new Error(`${baseUrl}/docs/openapi.json answered ${response.status}`);
  return (await response.json()) as OpenApiDocument;
}

/** The bad requests of one running service, and the valid requests they were derived from. */
export async function corpusFor(
  service: ServiceKey,
  baseUrl: string,
  credentials: CorpusCredentials,
): Promise<{ bad: BadRequest[]; examples: BadRequest[] }> {
  const openApi = { order: NO_PATHS, inventory: NO_PATHS, notification: NO_PATHS };
  openApi[service] = await fetchOpenApi(baseUrl);
  return {
    bad: badRequestCorpus(openApi, credentials),
    examples: exampleRequests(openApi, credentials),
  };
}

/** Sends a request exactly as given (raw body, headers) and reads the answer as text. */
export async function sendApiRequest(baseUrl: string, request: ApiRequest): Promise<Answer> {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

/**
 * Sends each bad request in turn; returns one line per answer that breaks the promise for bad
 * input (see rejectionProblem), so a test can show them all at once. Empty means all were kept.
 */
export async function wronglyAnswered(
  baseUrl: string,
  requests: readonly BadRequest[],
): Promise<string[]> {
  const wrong: string[] = [];
  for (const request of requests) {
    const answer = await sendApiRequest(baseUrl, request);
    const problem = rejectionProblem(request, answer);
    if (problem) wrong.push(`${request.name}: ${problem} (${answer.body.slice(0, 160)})`);
  }
  return wrong;
}
