// Finished runs that have both a memory estimate and a measured peak: the calibration's input.
import { and, isNotNull, sql } from 'drizzle-orm';

import type { MemoryMeasurement } from '../domain/memory-calibration.js';
import type { Db } from './client.js';
import { runs } from './schema.js';

export function listMemoryMeasurements(db: Db): MemoryMeasurement[] {
  return db
    .select({
      method: runs.method,
      family: sql<string | null>`json_extract(${runs.memory}, '$.basis.family')`,
      estimateGb: sql<number | null>`json_extract(${runs.memory}, '$.estimate_gb')`,
      peakGb: runs.peakMemoryGb,
    })
    .from(runs)
    .where(and(isNotNull(runs.peakMemoryGb), isNotNull(runs.memory), isNotNull(runs.finishedAt)))
    .all()
    .flatMap((r) =>
      r.family && r.estimateGb && r.peakGb
        ? [{ method: r.method, family: r.family, estimateGb: r.estimateGb, peakGb: r.peakGb }]
        : [],
    );
}
