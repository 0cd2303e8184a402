// A benchmark figure: the project's median against the raw baseline's, their ratio, the goal and whether it is met.
import { median, summarize, type Summary } from './stats.js';

export interface FigureSpec {
  name: string;
  /** Section heading in BENCHMARKS.md. */
  section: string;
  unit: string;
  /** Human form of the goal, e.g. ">= 0.8x"; null when the figure is only reported. */
  goal: string | null;
  /** Decides the goal from the project's and the baseline's medians; null when there is no goal. */
  pass: (value: number, baseline: number | null) => boolean | null;
  baselineWhat?: string;
  note?: string;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  goal: string | null;
  pass: boolean | null;
  min: number;
  max: number;
  baselineMin: number | null;
  baselineMax: number | null;
  reps: number;
  section: string;
  baselineWhat?: string;
  note?: string;
}

const round = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);

/** Medians over repetitions; `raw` may be empty for figures that are only reported. */
export function makeFigure(
  spec: FigureSpec,
  project: readonly number[],
  raw: readonly number[] = [],
): Figure {
  const value = median(project);
  const baseline = raw.length > 0 ? median(raw) : null;
  return {
    name: spec.name,
    value: round(value),
    unit: spec.unit,
    baseline: baseline === null ? null : round(baseline),
    ratio: baseline ? round(value / baseline) : null,
    goal: spec.goal,
    pass: spec.pass(value, baseline),
    min: round(Math.min(...project)),
    max: round(Math.max(...project)),
    baselineMin: raw.length > 0 ? round(Math.min(...raw)) : null,
    baselineMax: raw.length > 0 ? round(Math.max(...raw)) : null,
    reps: project.length,
    section: spec.section,
    baselineWhat: spec.baselineWhat,
    note: spec.note,
  };
}

/** The one-line JSON form printed by both modes: the required keys first. */
export function figureJson(f: Figure): string {
  const { name, value, unit, baseline, ratio, goal, pass, ...rest } = f;
  return JSON.stringify({ name, value, unit, baseline, ratio, goal, pass, ...rest });
}

export const atLeastRatio = (min: number) => (v: number, b: number | null) => (b ? v / b >= min : null);
export const atMostRatio = (max: number) => (v: number, b: number | null) => (b ? v / b <= max : null);
export const atMost = (limit: number) => (v: number) => v <= limit;
export const atLeast = (limit: number) => (v: number) => v >= limit;
export const reported = () => null;

/** The p50 and the p99 of each repetition's samples, the project's beside the baseline's. */
export class PercentileSeries {
  private readonly project = { p50: [] as number[], p99: [] as number[] };
  private readonly raw = { p50: [] as number[], p99: [] as number[] };

  /** Records one repetition's samples; returns their summaries (for the repetition's log line). */
  add(project: readonly number[], raw: readonly number[]): { sp: Summary; sr: Summary } {
    const sp = summarize(project);
    const sr = summarize(raw);
    for (const p of ['p50', 'p99'] as const) {
      this.project[p].push(sp[p]);
      this.raw[p].push(sr[p]);
    }
    return { sp, sr };
  }

  /** Two figures, `<name>, p50` and `<name>, p99`, each with `spec` of its name. */
  figures(name: string, spec: (name: string) => FigureSpec): Figure[] {
    return (['p50', 'p99'] as const).map((p) =>
      makeFigure(spec(`${name}, ${p}`), this.project[p], this.raw[p]),
    );
  }
}
