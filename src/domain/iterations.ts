// How many iterations a run will train, known from its request before the trainer prints anything.
import { OPTION_BY_KEY } from './run-options.js';
import type { RunRequest } from './run-request.js';

/**
 * `iters` as given, or `epochs` the way upstream's calculate_iters computes it: epochs * ceil(train rows /
 * batch_size). Null when neither can be known (no train rows counted). Upstream's `Calculated N iterations` and
 * `Starting training..., iters: N` lines correct it once the trainer runs (run-output-sink.ts).
 */
export function expectedIterations(request: RunRequest, trainRows: number | null | undefined): number | null {
  if (request.iters !== undefined) return request.iters;
  if (request.epochs === undefined || !trainRows || trainRows <= 0) return null;
  const batch =
    typeof request.batch_size === 'number' && request.batch_size > 0
      ? request.batch_size
      : defaultBatchSize();
  return request.epochs * Math.ceil(trainRows / batch);
}

function defaultBatchSize(): number {
  const d = OPTION_BY_KEY.get('batch_size')?.default;
  return typeof d === 'number' ? d : 4;
}
