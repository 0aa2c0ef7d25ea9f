import { setTimeout as sleep } from 'node:timers/promises';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { ALL_TOPICS } from '@shop/contracts';
import type { Logger } from '@shop/logging';
import {
  createKafka,
  deadLetterTopic,
  takeClusterSnapshot,
  TopicWatcher,
  type ClusterSnapshot,
} from '@shop/messaging';
import { kafkaCredentials, LOGGER } from '@shop/service-kit';
import { CONSOLE_CONFIG, type ConsoleConfig } from '../config/console-config';
import { ServiceDirectory } from '../services/service-directory';
import { CommitLedger } from './commit-ledger';
import { RecordLog } from './record-log';

/** Every topic the console reads: the event topics and their dead-letter topics. */
export const WATCHED_TOPICS: readonly string[] = [
  ...ALL_TOPICS,
  ...ALL_TOPICS.map(deadLetterTopic),
];

const WATCH_RETRY_MS = 2_000;
/** How often Kafka and the services are read while nobody looks at the console. */
const IDLE_POLL_INTERVAL_MS = 10_000;
/** A request keeps the fast polling on for this long. */
const VIEWER_GRACE_MS = 30_000;

/** Groups made for a moment (a dead-letter listing) that would only clutter the map. */
const isThrowawayGroup = (groupId: string) => groupId.startsWith('dead-letter-reader-');

/**
 * The console's view of Kafka and the services, refreshed about once a second: its own group
 * reads every record; the admin API says where every partition ends and every group stands.
 */
@Injectable()
export class ClusterObserver implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly records: RecordLog;
  readonly commits = new CommitLedger();
  private snapshot: ClusterSnapshot | null = null;
  private readonly watcher: TopicWatcher;
  private readonly admin: Admin;
  private timer: NodeJS.Timeout | undefined;
  private lastViewedAt = 0;
  private openStreams = 0;
  private polling = false;
  private stopped = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly services: ServiceDirectory,
  ) {
    this.records = new RecordLog(config.RETAINED_ORDERS);
    const kafka = createKafka(
      {
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID,
        sasl: kafkaCredentials(config),
      },
      logger,
    );
    this.admin = kafka.admin();
    this.watcher = new TopicWatcher({
      kafka,
      groupId: config.KAFKA_GROUP_ID,
      topics: WATCHED_TOPICS,
      logger,
      onRecords: (records) => {
        this.records.add(records);
        this.notify();
      },
    });
  }

  get groupId(): string {
    return this.config.KAFKA_GROUP_ID;
  }

  get isReady(): boolean {
    return this.watcher.isReady && this.snapshot !== null;
  }

  latest(): ClusterSnapshot | null {
    return this.snapshot;
  }

  /** Called after every poll and every batch of records: the live pages push what changed. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onApplicationBootstrap(): void {
    void this.startWatching();
  }

  /**
   * A console started before the topics are provisioned (or while Kafka is down) waits and tries
   * again, answering 503 on /health meanwhile, instead of exiting.
   */
  private async startWatching(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        await this.admin.connect();
        await this.watcher.start();
        break;
      } catch (error) {
        this.logger[attempt === 1 ? 'warn' : 'debug'](
          { err: error, attempt },
          'cannot read the topics yet; trying again in 2 s',
        );
        await this.watcher.stop().catch(() => undefined);
        await sleep(WATCH_RETRY_MS);
      }
    }
    if (this.stopped) return;
    await this.pollAndSchedule();
  }

  /**
   * Someone is looking (a page, a script): poll at POLL_INTERVAL_MS for the next while. With
   * nobody looking the console polls only every IDLE_POLL_INTERVAL_MS, so an idle stack stays idle.
   */
  noteViewer(): void {
    const wasIdle = !this.watched();
    this.lastViewedAt = Date.now();
    if (wasIdle && this.timer) {
      clearTimeout(this.timer);
      void this.pollAndSchedule();
    }
  }

  /** An open event stream counts as looking for as long as it is open. */
  openViewer(): () => void {
    this.openStreams += 1;
    this.noteViewer();
    return () => {
      this.openStreams -= 1;
      this.lastViewedAt = Date.now();
    };
  }

  private watched(): boolean {
    return this.openStreams > 0 || Date.now() - this.lastViewedAt < VIEWER_GRACE_MS;
  }

  private async pollAndSchedule(): Promise<void> {
    await this.poll();
    if (this.stopped) return;
    clearTimeout(this.timer);
    const delay = this.watched() ? this.config.POLL_INTERVAL_MS : IDLE_POLL_INTERVAL_MS;
    this.timer = setTimeout(() => void this.pollAndSchedule(), delay);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.watcher.stop();
    await this.admin.disconnect();
  }

  /** One poll at a time: a slow broker skips a beat rather than piling requests up. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const [snapshot] = await Promise.all([
        takeClusterSnapshot(this.admin, WATCHED_TOPICS, (groupId) => !isThrowawayGroup(groupId)),
        this.services.refresh(),
      ]);
      this.snapshot = snapshot;
      this.commits.record(snapshot);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not read the cluster; the map shows the last answer');
    } finally {
      this.polling = false;
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
