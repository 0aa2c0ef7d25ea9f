import { join } from 'node:path';

type ServiceKey = 'order' | 'inventory' | 'notification';

/** A request of the corpus, as far as these tests read it. */
export interface CorpusRequest {
  name: string;
  service: ServiceKey;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  field?: string;
}

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

interface CorpusModule {
  badRequestCorpus(openApi: Record<ServiceKey, unknown>): CorpusRequest[];
  exampleRequests(openApi: Record<ServiceKey, unknown>): CorpusRequest[];
  rejectionProblem(request: CorpusRequest, answer: Answer): string | undefined;
}

const NO_PATHS = { openapi: '3.0.0', paths: {} };

/**
 * The chaos suite's corpus of bad requests for one service, generated from the OpenAPI document
 * the running service serves. @shop/chaos depends on this service, not the reverse, so the
 * corpus is loaded from its source by path and typed here with what the tests use.
 */
export async function corpusFor(service: ServiceKey, baseUrl: string) {
  const corpus = (await import(
    join(__dirname, '..', '..', '..', 'packages', 'chaos', 'src', 'bad-requests')
  )) as CorpusModule;
  const document: unknown = await (await fetch(`${baseUrl}/docs/openapi.json`)).json();
  const openApi = {
    order: NO_PATHS,
    inventory: NO_PATHS,
    notification: NO_PATHS,
    [service]: document,
  };
  return {
    bad: corpus.badRequestCorpus(openApi),
    examples: corpus.exampleRequests(openApi),
    rejectionProblem: corpus.rejectionProblem,
  };
}

export async function send(baseUrl: string, request: CorpusRequest): Promise<Answer> {
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
