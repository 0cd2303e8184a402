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
        meanAbsError: round3(
          ms.reduce((a, m) => a + Math.abs(m.peakGb - m.estimateGb) / m.peakGb, 0) / ms.length,
        ),
        maxRatio: round3(Math.max(...ratios)),
        withinExpectedError: round3(
          ms.filter((m) => Math.abs(m.peakGb - m.estimateGb) <= EXPECTED_ERROR * m.estimateGb).length /
            ms.length,
        ),
      };
    })
    .sort((a, b) => a.method.localeCompare(b.method) || a.family.localeCompare(b.family));
}

/** A method × family's measured runs tune its margin once there are this many (MEMORY_CALIBRATION_MIN_RUNS). */
export const DEFAULT_CALIBRATION_MIN_RUNS = 5;
/** Headroom over the largest measured / estimated ratio seen. */
export const TUNING_HEADROOM = 1.1;
const MIN_TUNED = 1.0;
const MAX_TUNED = 3.0;

export interface TunedMargin {
  margin: number;
  /** Where it came from, in words (the dry run's memory notes say it). */
  source: string;
}

/**
 * The margin admission uses for a run of this method and model family: MEMORY_MARGIN until `minRuns` runs of the
 * group have a measured peak, then the largest measured / estimated ratio among them × 1.1, rounded up to 0.05 and
 * kept within 1.0..3.0: a group the estimate undershoots gets more margin, one it overshoots gets less.
 */
export function tunedMargin(
  groups: readonly CalibrationGroup[],
  method: string,
  family: string,
  configured: number,
  minRuns: number,
): TunedMargin {
  const g = groups.find((x) => x.method === method && x.family === family);
  if (!g || g.runs < minRuns) {
    return {
      margin: configured,
      source: `margin ${configured} (MEMORY_MARGIN): ${g?.runs ?? 0} of ${minRuns} measured ${method}/${family} runs needed to tune it`,
    };
  }
  const margin = Math.min(
    MAX_TUNED,
    Math.max(MIN_TUNED, Math.ceil(g.maxRatio * TUNING_HEADROOM * 20 - 1e-9) / 20),
  );
  return {
    margin,
    source: `margin ${margin} tuned from ${g.runs} measured ${method}/${family} runs (largest measured/estimate ${g.maxRatio} × ${TUNING_HEADROOM})`,
  };
}
