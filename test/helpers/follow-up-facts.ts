// Facts of a model for the follow-up tests (a 4-bit Llama LoRA run), and the issues a refused request names.
import { RequestValidationError } from '../../src/domain/errors.js';
import { type FollowUpFacts } from '../../src/domain/follow-up-rules.js';

export function issues(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof RequestValidationError) return e.issues;
    throw e;
  }
  throw new Error('expected a RequestValidationError');
}

export const LLAMA: FollowUpFacts = {
  method: 'sft',
  trainType: 'lora',
  modelType: 'llama',
  quantization: { bits: 4, group_size: 64 },
  mlxLmVersion: '0.32.0',
};
