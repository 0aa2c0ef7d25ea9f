import { Injectable } from '@nestjs/common';
import { ClusterObserver } from '../observer/cluster-observer';
import { ServiceDirectory } from '../services/service-directory';
import { SERVICE_NAMES } from '../topology';
import type { Overview } from '../views/view-models';
import { assembleOverview } from './assemble-overview';

@Injectable()
export class OverviewService {
  constructor(
    private readonly observer: ClusterObserver,
    private readonly directory: ServiceDirectory,
  ) {}

  overview(): Overview {
    return assembleOverview({
      now: Date.now(),
      snapshot: this.observer.latest(),
      consoleGroup: this.observer.groupId,
      replicas: SERVICE_NAMES.flatMap((service) => this.directory.replicasOf(service)),
      deadLetters: (topic) => this.observer.records.deadLetterTotals(topic),
      lagHistory: (groupId) => this.observer.commits.lagHistory(groupId),
    });
  }
}
