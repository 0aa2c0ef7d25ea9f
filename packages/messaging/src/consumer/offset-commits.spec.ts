import { createLogger } from '@shop/logging';
import { OffsetCommits, type CommitTarget } from './offset-commits';

const log = createLogger({ service: 'offset-commits-spec', level: 'silent', format: 'json' });

describe('committing consumed offsets per interval', () => {
  let sent: CommitTarget[][];
  let commits: OffsetCommits;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    sent = [];
  });

  afterEach(() => {
    commits.stop();
    jest.useRealTimers();
  });

  function interval(ms: number, send = async (targets: CommitTarget[]) => void sent.push(targets)) {
    commits = new OffsetCommits(ms, send, log);
  }

  it('commits the next offset to read, not the last one done', async () => {
    interval(100);
    commits.resolved('order-events', 2, '41');
    await jest.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([[{ topic: 'order-events', partition: 2, offset: '42' }]]);
  });

  it('sends what several batches resolved within the interval as one commit', async () => {
    interval(100);
    commits.resolved('order-events', 0, '1');
    await jest.advanceTimersByTimeAsync(0);
    commits.resolved('order-events', 0, '2');
    commits.resolved('order-events', 0, '3');
    commits.resolved('order-events', 1, '7');
    await jest.advanceTimersByTimeAsync(99);
    expect(sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([
      [{ topic: 'order-events', partition: 0, offset: '2' }],
      [
        { topic: 'order-events', partition: 0, offset: '4' },
        { topic: 'order-events', partition: 1, offset: '8' },
      ],
    ]);
  });

  it('commits after every batch with an interval of 0', async () => {
    interval(0);
    for (const offset of ['1', '2', '3']) {
      commits.resolved('inventory-events', 0, offset);
      await jest.advanceTimersByTimeAsync(0);
    }
    expect(sent.map(([target]) => target?.offset)).toEqual(['2', '3', '4']);
  });

  it('sends nothing when nothing was resolved since the last commit', async () => {
    interval(100);
    commits.resolved('order-events', 0, '1');
    await jest.advanceTimersByTimeAsync(500);
    await commits.flush();
    expect(sent).toHaveLength(1);
  });

  it('forgets what was resolved before a rebalance instead of committing it later', async () => {
    interval(100);
    commits.resolved('order-events', 0, '1');
    await jest.advanceTimersByTimeAsync(0);
    commits.resolved('order-events', 0, '5');
    commits.forget();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toEqual([[{ topic: 'order-events', partition: 0, offset: '2' }]]);
  });

  it('keeps a failed commit and tries again within the next interval', async () => {
    let refuse = true;
    interval(100, async (targets) => {
      if (refuse) throw new Error('REBALANCE_IN_PROGRESS');
      sent.push(targets);
    });
    commits.resolved('order-events', 0, '9');
    await jest.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(0);
    refuse = false;
    await jest.advanceTimersByTimeAsync(100);
    expect(sent).toEqual([[{ topic: 'order-events', partition: 0, offset: '10' }]]);
  });

  it('on stop, leaves no timer and commits what is pending when flushed, through the sender given', async () => {
    interval(100);
    commits.resolved('order-events', 0, '1');
    await jest.advanceTimersByTimeAsync(0);
    commits.resolved('order-events', 0, '2');
    commits.stop();
    const lastBatchSent: CommitTarget[][] = [];
    await commits.flush(async (targets) => void lastBatchSent.push(targets));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(1);
    expect(lastBatchSent).toEqual([[{ topic: 'order-events', partition: 0, offset: '3' }]]);
    commits.resolved('order-events', 0, '3');
    expect(jest.getTimerCount()).toBe(0);
  });
});
