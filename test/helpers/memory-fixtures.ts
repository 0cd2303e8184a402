// The published memory scenario for unit tests: Llama-3-8B's config.json and the request of mlx-examples PR #891.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { MemoryInputs } from '../../src/domain/memory-estimate.js';
import { type ModelShape, parseModelConfig } from '../../src/domain/model-shape.js';

export function llama3_8b(): ModelShape {
  const file = fileURLToPath(new URL('../../test_data/models/llama-3-8b/config.json', import.meta.url));
  const shape = parseModelConfig(JSON.parse(fs.readFileSync(file, 'utf8')));
  if ('error' in shape) throw new Error(shape.error);
  return shape;
}

/** 1 adapted layer, batch 4, length 2048, rank 8: measured peak 26.66 GB. */
export const PUBLISHED_INPUTS: MemoryInputs = {
  trainMode: 'sft',
  trainType: 'lora',
  batchSize: 4,
  maxSeqLength: 2048,
  longestTokens: 2048,
  rank: 8,
  numLayers: 1,
  gradCheckpoint: false,
  loadIn: null,
  groupSize: 4,
  maxCompletionLength: 512,
};
