import { parseMetrics } from './metrics-scrape';

const EXPOSITION = [
  '# HELP kafka_consumer_lag_messages Records past the committed offset.',
  '# TYPE kafka_consumer_lag_messages gauge',
  'kafka_consumer_lag_messages{topic="order-events",partition="0"} 3',
  'kafka_consumer_lag_messages{topic="order-events",partition="1"} 4',
  'kafka_consumer_lag_messages{topic="inventory-events",partition="0"} 100',
  'db_pool_max_connections 6',
  'odd_label{text="say \\"hi\\""} 1',
  '',
].join('\n');

describe('parseMetrics', () => {
  it('sums the samples whose labels include the given ones', () => {
    const metrics = parseMetrics(EXPOSITION);
    expect(metrics.sum('kafka_consumer_lag_messages', { topic: 'order-events' })).toBe(7);
    expect(metrics.sum('kafka_consumer_lag_messages')).toBe(107);
    expect(metrics.sum('db_pool_max_connections')).toBe(6);
  });

  it('tells a series that is absent from one that is zero', () => {
    const metrics = parseMetrics(`${EXPOSITION}outbox_backlog_events 0\n`);
    expect(metrics.has('outbox_backlog_events')).toBe(true);
    expect(metrics.has('kafka_consumer_dead_letters_total')).toBe(false);
    expect(metrics.sum('kafka_consumer_dead_letters_total')).toBe(0);
  });

  it('unescapes label values', () => {
    expect(parseMetrics(EXPOSITION).has('odd_label', { text: 'say "hi"' })).toBe(true);
  });

  it('refuses a line that is not a sample, naming it', () => {
    expect(() => parseMetrics('not a sample line at all')).toThrow(/not a Prometheus sample line/);
  });
});
