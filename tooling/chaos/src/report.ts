import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { ChaosConfig } from './config';

/** One line of the report: what the API accepted and what ended where. */
export interface ReportRow {
  id: string;
  title: string;
  accepted: number;
  terminal: number;
  lost: number;
  duplicated: number;
  oversold: number;
  serverErrors: number;
  deadLetters: number;
  /** False while the services create no dead-letter topics: the count cannot be read. */
  deadLetterTopics: boolean;
  expectedDeadLetters: number | undefined;
  /** Fault end → every order requested before it accepted and terminal; null if not within the bound. */
  recoverySeconds: number | null;
  resends: number;
  unanswered: number;
  notes: string[];
}

const COLUMNS: ReadonlyArray<[heading: string, cell: (result: ReportRow) => string]> = [
  ['scenario', (result) => `${result.id}. ${result.title}`],
  ['accepted', (result) => String(result.accepted)],
  ['terminal', (result) => String(result.terminal)],
  ['lost', (result) => String(result.lost)],
  ['duplicated', (result) => String(result.duplicated)],
  ['oversold', (result) => String(result.oversold)],
  ['5xx', (result) => String(result.serverErrors)],
  ['dead letters', deadLetterCell],
  [
    'recover s',
    (result) => (result.recoverySeconds === null ? '-' : String(result.recoverySeconds)),
  ],
  ['re-sent', (result) => String(result.resends)],
  ['unanswered', (result) => String(result.unanswered)],
  ['notes', (result) => result.notes.join('; ')],
];

function deadLetterCell(result: ReportRow): string {
  if (!result.deadLetterTopics) return 'n/a';
  return result.expectedDeadLetters === undefined
    ? String(result.deadLetters)
    : `${result.deadLetters}/${result.expectedDeadLetters}`;
}

/** One line per scenario, as a Markdown table (pasted as is into the README). */
export function formatTable(results: readonly ReportRow[]): string {
  const rows = [
    COLUMNS.map(([heading]) => heading),
    ...results.map((r) => COLUMNS.map(([, cell]) => cell(r))),
  ];
  const widths = COLUMNS.map((_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const [heading, ...body] = rows;
  return [
    line(heading ?? []),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

/** Everything measured, for a later look: tooling/chaos/results/last-run.json. */
export async function writeResults(
  file: string,
  config: ChaosConfig,
  startedAt: Date,
  results: readonly ReportRow[],
): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    config,
    results,
  };
  // A scenario's scope (every request it made) is for recounting, too bulky to keep.
  const json = JSON.stringify(
    report,
    (key, value: unknown) => (key === 'scope' ? undefined : value),
    2,
  );
  await writeFile(file, `${json}\n`);
}
