import { distribution, percentile, spread } from './stats';

describe('distribution', () => {
  it('takes nearest-rank percentiles of every sample', () => {
    const samples = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(distribution(samples)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('reports no figures when there were no samples', () => {
    expect(distribution([])).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });
  });

  it('gives the only sample for every percentile of one', () => {
    expect(percentile(Float64Array.from([7]), 99)).toBe(7);
  });
});

describe('spread', () => {
  it('is the median of the runs with their range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: [3, 1, 2] });
  });

  it('ignores runs without the figure', () => {
    expect(spread([null, 4, 2]).median).toBe(3);
  });
});
