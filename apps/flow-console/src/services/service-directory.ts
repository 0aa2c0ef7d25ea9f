import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { Logger } from '@shop/logging';
import {
  ClientCredentialsToken,
  LOGGER,
  type OrderFacts,
  type ReplicaFigures as ReplicaFiguresAnswer,
} from '@shop/service-kit';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config/console-config';
import { SERVICE_NAMES, type ServiceName } from '../topology';

const consumerSchema = z.object({
  state: z.enum(['idle', 'joining', 'joined', 'stopped', 'crashed']),
  paused: z.boolean(),
  retrying: z.number(),
  retries: z.array(
    z.object({
      topic: z.string(),
      partition: z.number(),
      offset: z.string(),
      attempts: z.number(),
      since: z.string(),
    }),
  ),
  deadLettered: z.number(),
  lastDeadLetter: z
    .object({ topic: z.string(), reason: z.string(), error: z.string(), at: z.string() })
    .nullable(),
});

// What the services' internal endpoints answer, checked at runtime (a replica of another version,
// a proxy's error page) and tied to the type the services answer with, so the two cannot drift.
const replicaFiguresSchema: z.ZodType<ReplicaFiguresAnswer> = z.object({
  group: z.string(),
  replica: z.string(),
  consumer: consumerSchema,
  outbox: z.object({ backlog: z.number(), oldestUnsentAgeMs: z.number().nullable() }).nullable(),
  figures: z.record(z.string(), z.number()),
});

export type ReplicaFigures = ReplicaFiguresAnswer;

const orderFactsSchema: z.ZodType<OrderFacts> = z.object({
  group: z.string(),
  replica: z.string(),
  handled: z.array(
    z.object({
      eventId: z.string(),
      eventType: z.string(),
      topic: z.string().nullable(),
      partition: z.number().nullable(),
      offset: z.string().nullable(),
      handledBy: z.string().nullable(),
      fetchedAt: z.string().nullable(),
      handledAt: z.string(),
    }),
  ),
  outbox: z.array(
    z.object({
      eventId: z.string(),
      eventType: z.string(),
      topic: z.string(),
      createdAt: z.string(),
      sentAt: z.string().nullable(),
      sentBy: z.string().nullable(),
    }),
  ),
  records: z.record(z.string(), z.unknown()),
});

export type ServiceOrderFacts = OrderFacts;

export interface ReplicaState {
  service: ServiceName;
  url: string;
  figures: ReplicaFigures | null;
  error: string | null;
}

const REQUEST_TIMEOUT_MS = 2_000;

/**
 * The services as the console reaches them: through each replica's internal endpoints, never
 * through their databases.
 */
@Injectable()
export class ServiceDirectory {
  private replicas: ReplicaState[] = [];

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly credentials: ClientCredentialsToken,
  ) {}

  configuredUrls(service: ServiceName): string[] {
    const urls: Record<ServiceName, string[]> = {
      'order-service': this.config.ORDER_SERVICE_URLS,
      'inventory-service': this.config.INVENTORY_SERVICE_URLS,
      'notification-service': this.config.NOTIFICATION_SERVICE_URLS,
    };
    return urls[service];
  }

  /** The order API, where the console places sample orders like any client. */
  orderApiUrl(): string {
    return this.config.ORDER_SERVICE_URLS[0]!;
  }

  /** Reads every replica's figures once; the map shows the last answers. */
  async refresh(): Promise<void> {
    const found = await Promise.all(
      SERVICE_NAMES.map(async (service) =>
        (await this.replicaUrls(service)).map((url) => ({ service, url })),
      ),
    );
    this.replicas = await Promise.all(
      found.flat().map(async ({ service, url }): Promise<ReplicaState> => {
        try {
          const figures = replicaFiguresSchema.parse(
            await this.request(url, 'GET', '/internal/figures'),
          );
          return { service, url, figures, error: null };
        } catch (error) {
          return { service, url, figures: null, error: (error as Error).message };
        }
      }),
    );
  }

  replicasOf(service: string): ReplicaState[] {
    return this.replicas.filter((replica) => replica.service === service);
  }

  /** One service's facts about an order (any replica: they share the service's database). */
  async orderFacts(service: ServiceName, orderId: string): Promise<ServiceOrderFacts | null> {
    for (const url of await this.replicaUrls(service)) {
      try {
        return orderFactsSchema.parse(
          await this.request(url, 'GET', `/internal/orders/${encodeURIComponent(orderId)}`),
        );
      } catch (error) {
        this.logger.debug({ err: error, service, url }, 'order facts unavailable from a replica');
      }
    }
    return null;
  }

  /** Pauses or resumes every replica of the service; true when all of them answered. */
  async setPaused(service: ServiceName, paused: boolean): Promise<boolean> {
    const urls = await this.replicaUrls(service);
    const path = paused ? '/internal/consumer/pause' : '/internal/consumer/resume';
    const answers = await Promise.allSettled(urls.map((url) => this.request(url, 'POST', path)));
    await this.refresh();
    return answers.every((answer) => answer.status === 'fulfilled');
  }

  private async replicaUrls(service: ServiceName): Promise<string[]> {
    const expanded = await Promise.all(this.configuredUrls(service).map(expandReplicas));
    return [...new Set(expanded.flat())];
  }

  private async request(baseUrl: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: await this.credentials.header(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`);
    return response.json();
  }
}

/** A host name of a scaled service resolves to one address per replica (Compose's DNS). */
async function expandReplicas(url: string): Promise<string[]> {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || host === 'localhost') return [url];
  try {
    const addresses = await lookup(host, { all: true, family: 4 });
    return addresses.map(({ address }) => {
      const replica = new URL(url);
      replica.hostname = address;
      return replica.toString().replace(/\/+$/, '');
    });
  } catch {
    return [url];
  }
}
