import {
  afterFailure,
  describeSendError,
  MAX_DELIVERY_ATTEMPTS,
  MAX_RETRY_DELAY_MS,
  messageIdFor,
  retryDelayMs,
} from './delivery-policy';

const now = new Date('2026-11-24T12:00:00.000Z');

describe('delivery policy', () => {
  it('retries a failed email five seconds after its first failure', () => {
    expect(afterFailure(1, now)).toEqual({
      status: 'PENDING',
      nextAttemptAt: new Date('2026-11-24T12:00:05.000Z'),
    });
  });

  it('doubles the wait with every further failure', () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([5_000, 10_000, 20_000, 40_000]);
  });

  it('never waits longer than fifteen minutes between tries', () => {
    expect(retryDelayMs(MAX_DELIVERY_ATTEMPTS - 1)).toBe(MAX_RETRY_DELAY_MS);
    expect(retryDelayMs(50)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('keeps retrying until the last allowed attempt has failed', () => {
    expect(afterFailure(MAX_DELIVERY_ATTEMPTS - 1, now).status).toBe('PENDING');
  });

  it('gives an email up as failed once its tenth attempt fails', () => {
    expect(MAX_DELIVERY_ATTEMPTS).toBe(10);
    expect(afterFailure(10, now)).toEqual({ status: 'FAILED' });
    expect(afterFailure(11, now)).toEqual({ status: 'FAILED' });
  });

  it('gives the email of one event the same Message-ID every time it is sent', () => {
    const eventId = '6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e';
    expect(messageIdFor(eventId)).toBe('<6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e@notification.shop>');
    expect(messageIdFor(eventId)).toBe(messageIdFor(eventId));
  });

  it('stores a long send error cut to a thousand characters', () => {
    const stored = describeSendError(new Error('x'.repeat(5_000)));
    expect(stored).toHaveLength(1_000);
    expect(describeSendError('421 try later')).toBe('421 try later');
  });
});
