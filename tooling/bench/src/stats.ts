/** A latency distribution in milliseconds; `null` figures when there were no samples. */
export interface Distribution {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The median of several runs' values of one figure, with the spread. */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  runs: Array<number | null>;
}

/** Exact percentiles (nearest rank) of every sample, not a histogram approximation. */
export function distribution(samples: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(samples).sort();
  const count = sorted.length;
  if (count === 0) return { count, p50: null, p90: null, p99: null, max: null };
  return {
    count,
    p50: hundredths(percentile(sorted, 50)),
    p90: hundredths(percentile(sorted, 90)),
    p99: hundredths(percentile(sorted, 99)),
    max: hundredths(sorted[count - 1] ?? null),
  };
}

/** Timestamps are whole milliseconds; more digits would only be noise. */
function hundredths(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export function spread(values: Array<number | null>): Spread {
  const present = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (present.length === 0) return { median: null, min: null, max: null, runs: values };
  const middle = Math.floor(present.length / 2);
  const median =
    present.length % 2 === 1
      ? (present[middle] ?? null)
      : ((present[middle - 1] ?? 0) + (present[middle] ?? 0)) / 2;
  return { median, min: present[0] ?? null, max: present.at(-1) ?? null, runs: values };
}
