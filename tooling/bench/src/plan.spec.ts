import {
  fixedSteps,
  nextSearchRate,
  roundRate,
  slowSmtpSteps,
  sustainedRate,
  type PlanOptions,
} from './plan';

const options: PlanOptions = {
  rates: [50, 200, 400],
  durationS: 60,
  runs: 3,
  smtpDelayMs: 300,
  slowRate: 200,
  slowMailConcurrency: 64,
  oneSkuRates: [],
  search: true,
  searchSteps: 4,
  searchFactor: 1.5,
  searchResolution: 0.1,
};

const outcomes = (entries: Array<[number, boolean]>): Map<number, boolean> => new Map(entries);

describe('the plan', () => {
  it('runs the fixed rates round-robin, so drift affects every rate alike', () => {
    expect(fixedSteps({ ...options, runs: 2 }).map((step) => step.rate)).toEqual([
      50, 200, 400, 50, 200, 400,
    ]);
  });

  it('runs the one-SKU rates beside the spread ones, labelled apart', () => {
    const steps = fixedSteps({ ...options, runs: 1, oneSkuRates: [200] });
    expect(steps.map((step) => [step.label, step.oneSku])).toEqual([
      ['50/s', false],
      ['200/s', false],
      ['400/s', false],
      ['200/s, one SKU', true],
    ]);
  });

  it('runs the slow-mail step with a slow SMTP server and more mail concurrency', () => {
    const [step] = slowSmtpSteps(options);
    expect(step?.mail).toEqual({ smtpDelayMs: 300, mailConcurrency: 64 });
    expect(step?.label).toBe('200/s, SMTP +300 ms');
  });

  it('has no slow-mail step when the delay is 0', () => {
    expect(slowSmtpSteps({ ...options, smtpDelayMs: 0 })).toEqual([]);
  });
});

describe('the search for the sustained rate', () => {
  it('steps up from the highest rate that passed while nothing has failed', () => {
    expect(
      nextSearchRate(
        outcomes([
          [200, true],
          [400, true],
        ]),
        options,
      ),
    ).toBe(600);
  });

  it('bisects between the highest pass and the lowest fail', () => {
    expect(
      nextSearchRate(
        outcomes([
          [400, true],
          [600, false],
        ]),
        options,
      ),
    ).toBe(500);
  });

  it('steps down when even the lowest rate failed', () => {
    expect(nextSearchRate(outcomes([[50, false]]), options)).toBe(35);
  });

  it('stops once pass and fail are within the resolution', () => {
    expect(
      nextSearchRate(
        outcomes([
          [500, true],
          [540, false],
        ]),
        options,
      ),
    ).toBeUndefined();
  });

  it('rounds rates to readable steps', () => {
    expect([roundRate(33), roundRate(667), roundRate(1_234)]).toEqual([35, 670, 1_250]);
  });

  it('takes the highest rate with every required run sustained', () => {
    const run = (rate: number, sustained: boolean) => ({
      rate,
      smtpDelayMs: 0,
      oneSku: false,
      sustained,
    });
    const runs = [run(200, true), run(200, true), run(400, true), run(400, false), run(600, true)];
    expect(sustainedRate(runs, 2)).toBe(200);
  });

  it('does not count slow-mail runs towards the sustained rate', () => {
    const runs = [{ rate: 200, smtpDelayMs: 300, oneSku: false, sustained: true }];
    expect(sustainedRate(runs, 1)).toBeUndefined();
  });

  it('does not count one-SKU runs towards the sustained rate', () => {
    const runs = [{ rate: 200, smtpDelayMs: 0, oneSku: true, sustained: true }];
    expect(sustainedRate(runs, 1)).toBeUndefined();
  });
});
