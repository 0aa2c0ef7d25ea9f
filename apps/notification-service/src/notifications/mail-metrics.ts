import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { ServiceMetrics } from '@shop/service-kit';

/** What became of one sending attempt. */
export type SendOutcome = 'sent' | 'retry' | 'failed';

/** Sending attempts by email type and outcome, on the service's Prometheus registry. */
@Injectable()
export class MailMetrics {
  private readonly sends: Counter<'type' | 'outcome'>;

  constructor(metrics: ServiceMetrics) {
    this.sends = new Counter({
      name: 'notification_email_sends_total',
      help: 'Attempts to send an email: sent, failed and retried later, or failed for good.',
      labelNames: ['type', 'outcome'],
      registers: [metrics.registry],
    });
  }

  attempted(type: string, outcome: SendOutcome): void {
    this.sends.inc({ type, outcome });
  }
}
