// A run's whole log as text: its train.log when the run folder is on this machine, else the lines kept in SQLite
// (a run trained on another Mac, or a folder since removed).
import fs from 'node:fs';

import type { Db } from '../db/client.js';
import { getLogLines } from '../db/logs-repository.js';
import type { Run } from '../domain/run.js';
import { trainLogOf } from '../domain/run-folder.js';

/** The log file as a stream when it exists, else the stored lines joined into one text. */
export function readRunLog(db: Db, run: Pick<Run, 'id' | 'runDir'>): fs.ReadStream | string {
  const logFile = trainLogOf(run.runDir);
  if (fs.existsSync(logFile)) return fs.createReadStream(logFile);
  return getLogLines(db, run.id, {})
    .map((l) => `${l.text}\n`)
    .join('');
}
