import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testAdminDatabaseUrl, testKafkaBrokers } from '@shop/devstack';
import { renderMarkdown, runBenchmark, type BenchReport } from '../src';

const RATE = 20;
const DURATION_S = 3;
const SMTP_DELAY_MS = 100;

/**
 * A few seconds of the real benchmark at a low rate: the three services as processes, the SMTP
 * sink, the load generator, the per-stage read-back and the report. Figures are not judged here
 * (the machine may be busy), only that they are complete and consistent.
 */
describe('the benchmark, briefly', () => {
  let report: BenchReport;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'shop-bench-smoke-'));
    await chmod(workDir, 0o755);
    const kafkaPid = Number(process.env.TEST_KAFKA_PID);
    report = await runBenchmark(
      {
        rates: [RATE],
        durationS: DURATION_S,
        runs: 1,
        warmupS: 2,
        smtpDelayMs: SMTP_DELAY_MS,
        slowRate: RATE,
        slowMailConcurrency: 16,
        oneSkuRates: [RATE],
        search: false,
        tracing: false,
        searchSteps: 0,
        searchFactor: 1.5,
        searchResolution: 0.1,
        products: 5,
        durable: false,
        profile: false,
        withConsole: false,
        kafkaBrokers: testKafkaBrokers(),
        ...(Number.isInteger(kafkaPid) && kafkaPid > 0 ? { kafkaPid } : {}),
        adminDatabaseUrl: testAdminDatabaseUrl(),
        criteria: {
          p99BoundMs: 1_000,
          drainTimeoutMs: 60_000,
          maxLagSeconds: 1,
          abortLagSeconds: 60,
        },
        workDir,
        command: 'smoke test',
      },
      { say: () => undefined },
    );
  }, 300_000);

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('sends every request on schedule and has every order accepted', () => {
    expect(report.steps.map((step) => step.label)).toEqual([
      `${RATE}/s`,
      `${RATE}/s, one SKU`,
      `${RATE}/s, SMTP +${SMTP_DELAY_MS} ms`,
    ]);
    for (const step of report.steps) {
      expect(step.requests).toMatchObject({
        scheduled: RATE * DURATION_S,
        sent: RATE * DURATION_S,
        accepted: RATE * DURATION_S,
        failed: 0,
        errors: {},
      });
    }
  });

  it('sees every order CONFIRMED and its one email received', () => {
    for (const step of report.steps) {
      expect(step.processed).toMatchObject({
        confirmed: RATE * DURATION_S,
        otherStatus: 0,
        emails: RATE * DURATION_S,
        repeatedEmails: 0,
        complete: true,
      });
      expect(step.lag.afterDrain).toEqual({
        'order-service': 0,
        'inventory-service': 0,
        'notification-service': 0,
      });
    }
  });

  it('measures latencies that are complete and ordered: accepted, then CONFIRMED, then email', () => {
    for (const step of report.steps) {
      const { accepted, confirmed, email } = step.latencyMs;
      for (const figures of [accepted, confirmed, email]) {
        expect(figures.count).toBe(RATE * DURATION_S);
        expect(figures.p50).toBeGreaterThan(0);
        expect(figures.p99).toBeGreaterThanOrEqual(figures.p50 ?? Infinity);
        expect(figures.max).toBeGreaterThanOrEqual(figures.p99 ?? Infinity);
      }
      expect(confirmed.p50).toBeGreaterThanOrEqual(accepted.p50 ?? Infinity);
      expect(email.p50).toBeGreaterThan(confirmed.p50 ?? Infinity);
      for (const [stage, figures] of Object.entries(step.stagesMs)) {
        expect({ stage, count: figures.count }).toEqual({ stage, count: RATE * DURATION_S });
      }
    }
  });

  it('puts the slow mail server on the email, not on the answer', () => {
    const slow = report.steps.find((step) => step.smtpDelayMs === SMTP_DELAY_MS);
    expect(slow?.stagesMs['SMTP server answers']?.p50).toBeGreaterThanOrEqual(SMTP_DELAY_MS - 1);
    expect(report.seedClaim?.ratioP50).toBeGreaterThan(1);
  });

  it('samples the CPU and memory of every process', () => {
    const processes = report.steps[0]?.resources.processes ?? {};
    const expected = [
      'order-service',
      'inventory-service',
      'notification-service',
      'postgres',
      'smtp-sink',
      'load-generator',
      ...(process.env.TEST_KAFKA_PID ? ['kafka'] : []),
    ];
    for (const name of expected) {
      expect({ name, cpu: processes[name]?.cpuPercent ?? null }).toEqual({
        name,
        cpu: expect.any(Number),
      });
      expect(processes[name]?.rssMb).toBeGreaterThan(0);
    }
  });

  it('renders the figures as markdown and records the machine', () => {
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.calibration).toEqual({
      httpCpuUsPerAnswer: expect.any(Number),
      pgCommitsPerSecond: expect.any(Number),
      kafkaRoundTripMsP50: expect.any(Number),
    });
    for (const figure of Object.values(report.calibration ?? {})) expect(figure).toBeGreaterThan(0);
    expect(report.machine.postgres).not.toBe('');
    const markdown = renderMarkdown(report);
    expect(markdown).toContain(`| ${RATE}/s | 1 |`);
    expect(markdown).toContain('**Slow mail server**');
  });
});
