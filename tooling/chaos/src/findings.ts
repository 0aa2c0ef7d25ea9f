import type { ScenarioResult } from './scenario';

/**
 * What the suite promises under every fault, as readable findings: nothing lost, duplicated or
 * oversold, no 5xx, every request answered, no crash, recovered within the bound.
 */
export function findings(result: ScenarioResult, recoveryBoundMs: number): string[] {
  const found: string[] = [];
  const samples = result.traffic.samples.join(' | ');
  if (result.lost > 0) found.push(`lost ${result.lost}: ${JSON.stringify(result.lostReasons)}`);
  if (result.duplicated > 0)
    found.push(`duplicated ${result.duplicated}: ${JSON.stringify(result.duplicatedReasons)}`);
  if (result.oversold > 0) found.push(`oversold ${result.oversold} units`);
  if (result.serverErrors > 0) found.push(`${result.serverErrors} 5xx answers: ${samples}`);
  if (result.refused > 0) found.push(`${result.refused} valid orders refused: ${samples}`);
  if (result.unanswered > 0) found.push(`${result.unanswered} requests never answered`);
  if (result.unansweredCancels > 0)
    found.push(`${result.unansweredCancels} cancels never answered`);
  if (result.resends > 0 && !result.mayResendEmails)
    found.push(`${result.resends} emails sent twice, which this fault cannot explain`);
  if (result.redelivery && result.redelivery.copies === 0) found.push('nothing was redelivered');
  if (result.redelivery && result.redelivery.unreadPartitions > 0)
    found.push(`${result.redelivery.unreadPartitions} partitions with copies no group read`);
  for (const crash of result.crashes) found.push(`crashed: ${crash}`);
  if (result.recoverySeconds === null)
    found.push(`not recovered ${recoveryBoundMs / 1_000} s after the fault`);
  return found;
}
