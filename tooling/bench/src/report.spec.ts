import { cpuMsPerOrder, type LabelSummary } from './report';

const usage = (percent: number | null) => ({
  cpuPercent: { median: percent, min: percent, max: percent, runs: [percent] },
  rssMb: { median: 100, min: 100, max: 100, runs: [100] },
});

function label(rate: number, resources: LabelSummary['resources']): LabelSummary {
  return { rate, resources } as LabelSummary;
}

describe('cpuMsPerOrder', () => {
  it('adds the CPU of the system under test, not of the load generator or the mail sink', () => {
    const step = label(50, {
      'order-service': usage(30),
      kafka: usage(20),
      'load-generator': usage(40),
      'smtp-sink': usage(10),
    });
    // 50 % of a core at 50 orders/s: 10 ms of CPU per order.
    expect(cpuMsPerOrder(step)).toBeCloseTo(10);
  });

  it('is unknown when a process of the system was not measured', () => {
    expect(cpuMsPerOrder(label(50, { kafka: usage(null) }))).toBeNull();
  });
});
