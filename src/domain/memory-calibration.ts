// Pure: how far the memory estimate was from the measured peak, per method and model family, over finished runs.
import { EXPECTED_ERROR } from './memory-estimate.js';

export interface MemoryMeasurement {
  method: string;
  family: string;
  estimateGb: number;
  peakGb: number;
}

export interface CalibrationGroup {
  method: string;
  family: string;
  runs: number;
  /** Mean of measured / estimated peak: below 1 the estimate is high, above 1 it is low. */
  meanRatio: number;
  /** Mean of |measured − estimate| / measured. */
  meanAbsError: number;
  /** The largest measured / estimated ratio seen: the margin that would have held every one of these runs. */
  maxRatio: number;
  /** Share of runs whose measurement lies within the published ±35% of the estimate. */
  withinExpectedError: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function calibrate(measurements: readonly MemoryMeasurement[]): CalibrationGroup[] {
  const groups = new Map<string, MemoryMeasurement[]>();
  for (const m of measurements) {
    if (!(m.estimateGb > 0 && m.peakGb > 0)) continue;
    const key = `${m.method}\0${m.family}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  return [...groups.values()]
    .map((ms) => {
      const ratios = ms.map((m) => m.peakGb / m.estimateGb);
      return {
        method: ms[0]!.method,
        family: ms[0]!.family,
        runs: ms.length,
        meanRatio: round3(ratios.reduce((a, r) => a + r, 0) / ms.length),
        meanAbsError: round3(ms.reduce((a, m) => a + Math.abs(m.peakGb - m.estimateGb) / m.peakGb, 0) / ms.length),
        maxRatio: round3(Math.max(...ratios)),
        withinExpectedError: round3(ms.filter((m) => Math.abs(m.peakGb - m.estimateGb) <= EXPECTED_ERROR * m.estimateGb).length / ms.length),
      };
    })
    .sort((a, b) => a.method.localeCompare(b.method) || a.family.localeCompare(b.family));
}
