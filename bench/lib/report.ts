// Writes BENCHMARKS.md from a full run: machine and versions, one table of figures against their raw
// baselines (medians, min-max over repetitions, ratios, goals), each figure's method notes, the submit path's
// per-step breakdown, and the hand-written findings in bench/FINDINGS.md.
import fs from 'node:fs';
import path from 'node:path';

import type { Breakdown } from '../figures/submit-breakdown.js';
import type { Figure } from './figure.js';
import type { Machine } from './machine.js';
import { BENCH_DIR } from './processes.js';
import { fmt } from './stats.js';

/** The order of the table's sections; a figure's section not listed here comes after them, never left out. */
const SECTIONS = [
  'Submit',
  'Queue',
  'Worker',
  'Reporting protocol (several Macs)',
  'History',
  'Datasets',
  'Repositories',
  'Artifacts',
  'Memory',
];

const range = (min: number | null, max: number | null) =>
  min === null || max === null ? '' : `${fmt(min)}–${fmt(max)}`;
const verdict = (p: boolean | null) => (p === null ? 'reported' : p ? 'yes' : '**no**');

function figureRows(figures: Figure[]): string[] {
  const rows = [
    '| Figure | Project | min–max | Raw baseline | min–max | Ratio | Goal | Met | Reps |',
    '|---|---:|---:|---:|---:|---:|---|---|---:|',
  ];
  const sections = [...new Set([...SECTIONS, ...figures.map((f) => f.section)])];
  for (const section of sections) {
    const inSection = figures.filter((f) => f.section === section);
    if (inSection.length === 0) continue;
    rows.push(`| **${section}** | | | | | | | | |`);
    for (const f of inSection) {
      rows.push(
        `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${range(f.min, f.max)} | ${f.baseline === null ? '' : `${fmt(f.baseline)} ${f.unit}`} | ` +
          `${range(f.baselineMin, f.baselineMax)} | ${f.ratio === null ? '' : `${fmt(f.ratio)}x`} | ${f.goal ?? ''} | ${verdict(f.pass)} | ${f.reps} |`,
      );
    }
  }
  return rows;
}

function notes(figures: Figure[]): string[] {
  const out: string[] = [];
  for (const f of figures) {
    out.push(`- **${f.name}**: baseline = ${f.baselineWhat ?? 'none'}.${f.note ? ` ${f.note}.` : ''}`);
  }
  return out;
}

function breakdownRows(b: Breakdown): string[] {
  const rows = [
    '| Step of POST /v1/runs (in-process, warm) | CPU µs per call | wall µs per call |',
    '|---|---:|---:|',
  ];
  for (const s of b.steps) rows.push(`| ${s.step} | ${fmt(s.cpuUs)} | ${fmt(s.wallUs)} |`);
  return rows;
}

export function writeReport(
  file: string,
  figures: Figure[],
  machine: Machine,
  seconds: number,
  breakdown: Breakdown | null,
): void {
  const findings = path.join(BENCH_DIR, 'FINDINGS.md');
  const met = figures.filter((f) => f.pass === true).length;
  const goals = figures.filter((f) => f.pass !== null).length;
  const lines = [
    '# Benchmarks',
    '',
    'The service must add next to nothing to a training run, so each figure measures the project and the raw parts',
    'it is built from **in the same run, on the same machine**, and reports the ratio (absolute times on a shared',
    'machine are noise). Regenerate with `npm run bench` (writes this file, ~10 min on 2 cores) or check quickly with',
    '`npm run bench:quick` (under 60 s, smaller scale, prints one JSON object per figure). The harness is in',
    '[`bench/`](bench/); the raw baselines are in [`bench/raw/`](bench/raw/).',
    '',
    `Generated ${machine.at} at commit \`${machine.commit}\` in ${Math.round(seconds)} s; ${met} of ${goals} goals met.`,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| OS / CPU / RAM | ${machine.os} / ${machine.cpu} / ${machine.memGiB} GiB |`,
    `| load average at start (1, 5, 15 min) | ${machine.loadAtStart} (other engineers' test suites were running on the same 2 cores) |`,
    `| node | ${machine.node} |`,
    ...Object.entries(machine.packages).map(([name, version]) => `| ${name} | ${version} |`),
    `| redis-server | ${machine.redis} |`,
    `| SQLite (bundled in better-sqlite3) | ${machine.sqlite} |`,
    `| python (trainer stand-in) | ${machine.python} |`,
    '',
    '## Results',
    '',
    'Project and baseline values are medians over the repetitions (min–max beside them); a latency row is itself a',
    'percentile over many requests within each repetition. Ratio = project median / baseline median.',
    '',
    ...figureRows(figures),
    '',
    '### How each figure was measured',
    '',
    ...notes(figures),
    '',
  ];
  if (breakdown) {
    lines.push('### Where a submit spends its time', '', breakdown.note, '', ...breakdownRows(breakdown), '');
  }
  if (fs.existsSync(findings)) lines.push(fs.readFileSync(findings, 'utf8').trim(), '');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}
