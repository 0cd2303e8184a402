// What the trainer-output parser makes of mlx-lm-lora's lines: metric points and run events.
import type { MetricPoint as MetricPointOf, MetricSplit } from './metric-point.js';

export type { MetricSplit } from './metric-point.js';
/** A point as printed: its value is a number (NaN included), never null. */
export type MetricPoint = MetricPointOf<number>;

export type TrainerEvent =
  | { kind: 'metrics'; iteration: number; split: MetricSplit; points: MetricPoint[] }
  | { kind: 'progress'; iteration: number; total: number | null }
  | { kind: 'total_iterations'; total: number }
  | { kind: 'checkpoint'; iteration: number; adapterFile: string; checkpointFile: string }
  | { kind: 'final'; adapterFile: string }
  | { kind: 'fused'; path: string }
  | { kind: 'error'; message: string };

export interface TrainerOutputParser {
  push(line: string): TrainerEvent[];
  end(): TrainerEvent[];
}
