import { findings } from './findings';
import type { ScenarioResult } from './scenario';

/** A scenario in which everything went right. */
function clean(overrides: Partial<ScenarioResult> = {}): ScenarioResult {
  return {
    id: 'x',
    title: 'a fault',
    accepted: 10,
    terminal: 10,
    statuses: { CONFIRMED: 10 },
    lost: 0,
    lostReasons: {},
    duplicated: 0,
    duplicatedReasons: {},
    oversold: 0,
    resends: 0,
    deferredEmails: 0,
    serverErrors: 0,
    unanswered: 0,
    unansweredCancels: 0,
    refused: 0,
    deadLetters: 0,
    deadLetterTopics: true,
    expectedDeadLetters: undefined,
    recoverySeconds: 3,
    acceptedDuringFault: 4,
    crashes: [],
    traffic: {
      requests: 10,
      accepted: 10,
      serverErrors: 0,
      connectionErrors: 0,
      refused: 0,
      unanswered: 0,
      cancelsRequested: 1,
      cancelled: 1,
      unansweredCancels: 0,
      samples: [],
    },
    notes: [],
    scope: { tag: 'x', skus: [], accepted: [] },
    ...overrides,
  };
}

describe('the findings that fail a chaos scenario', () => {
  it('find nothing in a clean scenario', () => {
    expect(findings(clean(), 90_000)).toEqual([]);
  });

  it('fail a scenario for a cancel that never got an answer', () => {
    expect(findings(clean({ unansweredCancels: 2 }), 90_000)).toEqual(['2 cancels never answered']);
  });

  it('fail a scenario for an email sent twice unless its fault can explain it', () => {
    expect(findings(clean({ resends: 1 }), 90_000)).toEqual([
      '1 emails sent twice, which this fault cannot explain',
    ]);
    expect(
      findings(clean({ resends: 1, mayResendEmails: 'killed between send and mark' }), 90_000),
    ).toEqual([]);
  });

  it('fail a redelivery scenario that redelivered nothing, or whose copies no group read', () => {
    expect(findings(clean({ redelivery: { copies: 0, unreadPartitions: 0 } }), 90_000)).toEqual([
      'nothing was redelivered',
    ]);
    expect(findings(clean({ redelivery: { copies: 30, unreadPartitions: 2 } }), 90_000)).toEqual([
      '2 partitions with copies no group read',
    ]);
    expect(findings(clean({ redelivery: { copies: 30, unreadPartitions: 0 } }), 90_000)).toEqual(
      [],
    );
  });

  it('fail a scenario that lost, doubled or oversold, or did not recover in time', () => {
    expect(
      findings(
        clean({
          lost: 1,
          lostReasons: { 'cancel-not-applied': 1 },
          oversold: 2,
          recoverySeconds: null,
        }),
        90_000,
      ),
    ).toEqual([
      'lost 1: {"cancel-not-applied":1}',
      'oversold 2 units',
      'not recovered 90 s after the fault',
    ]);
  });
});
