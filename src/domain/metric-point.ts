// A metric value the trainer reported: the one definition of its splits and shape, for the parser, the rows and views.

export const METRIC_SPLITS = ['train', 'val', 'test'] as const;
export type MetricSplit = (typeof METRIC_SPLITS)[number];

/**
 * One reported value. As parsed from the trainer's output the value is a number (NaN included); as stored and
 * returned NaN becomes null and ±Infinity is kept, hence the default `number | null`.
 */
export interface MetricPoint<Value extends number | null = number | null> {
  iteration: number;
  split: MetricSplit;
  name: string;
  value: Value;
}
