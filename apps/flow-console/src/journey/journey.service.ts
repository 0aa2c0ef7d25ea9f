import { Inject, Injectable } from '@nestjs/common';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config/console-config';
import { ClusterObserver } from '../observer/cluster-observer';
import { ServiceDirectory, type ServiceOrderFacts } from '../services/service-directory';
import { SERVICE_NAMES, serviceOfGroup } from '../topology';
import type { Journey } from '../views/view-models';
import { assembleJourney, type GroupOnTopic, type RetryFact } from './assemble-journey';

/** Gathers one order's facts from Kafka (as observed) and from each service, then assembles them. */
@Injectable()
export class JourneyService {
  constructor(
    private readonly observer: ClusterObserver,
    private readonly directory: ServiceDirectory,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  async journey(orderId: string): Promise<Journey> {
    const answers = await Promise.all(
      SERVICE_NAMES.map(
        async (service) => [service, await this.directory.orderFacts(service, orderId)] as const,
      ),
    );
    const services: Record<string, ServiceOrderFacts | null> = Object.fromEntries(answers);
    return assembleJourney({
      orderId,
      consoleGroup: this.observer.groupId,
      events: this.observer.records.eventsOf(orderId),
      deadLetters: this.observer.records.deadLettersOf(orderId),
      services,
      groups: this.groups(),
      retries: this.retries(),
      traceUiUrl: this.config.TRACE_UI_URL ?? null,
      passedAt: (groupId, topic, partition, offset) =>
        this.observer.commits.passedAt(groupId, topic, partition, offset),
    });
  }

  private groups(): GroupOnTopic[] {
    const replicas = SERVICE_NAMES.flatMap((service) => this.directory.replicasOf(service));
    // A group of no service with no members left (a finished tool or test) is history, not flow.
    const live = (this.observer.latest()?.groups ?? []).filter(
      (group) =>
        group.members.length > 0 ||
        group.groupId === this.observer.groupId ||
        serviceOfGroup(group.groupId, replicas) !== null,
    );
    return live.map((group) => ({
      groupId: group.groupId,
      service: serviceOfGroup(group.groupId, replicas),
      topics: [
        ...new Set([
          ...group.committed.map((committed) => committed.topic),
          ...group.members.flatMap((member) => member.assignments.map((a) => a.topic)),
        ]),
      ],
    }));
  }

  private retries(): RetryFact[] {
    return SERVICE_NAMES.flatMap((service) =>
      this.directory.replicasOf(service).flatMap((replica) =>
        (replica.figures?.consumer.retries ?? []).map((retry) => ({
          service,
          replica: replica.figures?.replica ?? replica.url,
          ...retry,
          since: Date.parse(retry.since),
        })),
      ),
    );
  }
}
