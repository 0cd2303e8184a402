// Writes BENCHMARKS.md from a full run's figures.
import fs from 'node:fs';

import type { Figure } from './figure.js';
import type { Machine } from './machine.js';

export function writeReport(file: string, figures: Figure[], machine: Machine, seconds: number): void {
  fs.writeFileSync(file, JSON.stringify({ figures, machine, seconds }, null, 2));
}
