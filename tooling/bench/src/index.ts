export { runBenchmark, type BenchHooks, type BenchOptions } from './benchmark';
export { renderMarkdown, type BenchReport, type LabelSummary } from './report';
export type { Criteria, StepResult } from './step';
export { distribution, percentile, spread, type Distribution, type Spread } from './stats';
