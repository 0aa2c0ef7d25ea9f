import { canTransition, isFinal } from './order-status';

describe('order lifecycle', () => {
  it('lets a pending order be confirmed, rejected or cancelled', () => {
    expect(canTransition('PENDING', 'CONFIRMED')).toBe(true);
    expect(canTransition('PENDING', 'REJECTED')).toBe(true);
    expect(canTransition('PENDING', 'CANCELLED')).toBe(true);
  });

  it('lets a confirmed order be cancelled but not rejected or confirmed again', () => {
    expect(canTransition('CONFIRMED', 'CANCELLED')).toBe(true);
    expect(canTransition('CONFIRMED', 'REJECTED')).toBe(false);
    expect(canTransition('CONFIRMED', 'CONFIRMED')).toBe(false);
  });

  it('never moves a rejected or cancelled order', () => {
    for (const to of ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'] as const) {
      expect(canTransition('REJECTED', to)).toBe(false);
      expect(canTransition('CANCELLED', to)).toBe(false);
    }
    expect(isFinal('REJECTED')).toBe(true);
    expect(isFinal('CANCELLED')).toBe(true);
    expect(isFinal('CONFIRMED')).toBe(false);
  });
});
