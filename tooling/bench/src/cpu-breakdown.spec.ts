import { CLOCK_TICKS } from './resources';
import { describeJvmThread, describePostgresProcess, sharesBetween } from './cpu-breakdown';

describe('what a thread or process does', () => {
  it('reads truncated JVM thread names as the broker part they belong to', () => {
    expect(describeJvmThread('C2 CompilerThre')).toBe('JIT compiler');
    expect(describeJvmThread('G1 Conc#0')).toBe('garbage collector');
    expect(describeJvmThread('GC Thread#1')).toBe('garbage collector');
    expect(describeJvmThread('data-plane-kafk')).toBe(
      'client requests (network and handler threads)',
    );
    expect(describeJvmThread('kafka-1-raft-io')).toBe('KRaft metadata and controller');
    expect(describeJvmThread('quorum-controll')).toBe('KRaft metadata and controller');
    expect(describeJvmThread('kafka-scheduler')).toBe('kafka-scheduler');
    expect(describeJvmThread('ExpirationReape')).toBe('ExpirationReape');
  });

  it('reads Postgres process titles as roles, with or without a cluster name', () => {
    expect(describePostgresProcess('postgres: order_service bench 127.0.0.1(43886) idle')).toBe(
      'order_service connections',
    );
    expect(describePostgresProcess('postgres: 15/main: checkpointer')).toBe('checkpointer');
    expect(describePostgresProcess('postgres: walwriter')).toBe('walwriter');
    expect(
      describePostgresProcess('postgres: 15/main: inventory_service shop [local] SELECT'),
    ).toBe('inventory_service connections');
  });
});

describe('shares of CPU between two snapshots', () => {
  it('sums the ticks each part used, counts a new one whole and leaves out one that used none', () => {
    const first = new Map([
      ['1', { name: 'JIT compiler', ticks: 100 }],
      ['2', { name: 'client requests', ticks: 50 }],
      ['3', { name: 'client requests', ticks: 10 }],
      ['4', { name: 'idle', ticks: 7 }],
    ]);
    const last = new Map([
      ['1', { name: 'JIT compiler', ticks: 100 + CLOCK_TICKS }],
      ['2', { name: 'client requests', ticks: 50 + CLOCK_TICKS / 2 }],
      ['3', { name: 'client requests', ticks: 10 + CLOCK_TICKS / 2 }],
      ['4', { name: 'idle', ticks: 7 }],
      ['5', { name: 'garbage collector', ticks: CLOCK_TICKS / 5 }],
    ]);
    expect(sharesBetween(first, last, 10)).toEqual([
      { name: 'JIT compiler', cpuPercent: 10 },
      { name: 'client requests', cpuPercent: 10 },
      { name: 'garbage collector', cpuPercent: 2 },
    ]);
  });
});
