// A realistic new run numbered i (id run_0000i, a queued sft run of 10 iterations), for the runs repository's tests.
import type { Method } from '../../src/domain/methods.js';
import type { NewRun } from '../../src/domain/run.js';

export function newRun(i: number, over: Partial<NewRun> = {}): NewRun {
  const method: Method = over.method ?? 'sft';
  const tags = over.tags ?? [];
  return {
    id: `run_${String(i).padStart(5, '0')}`,
    method,
    trainMode: method === 'gspo' ? 'grpo' : 'sft',
    model: 'mlx-community/Qwen3-0.6B-4bit',
    data: 'dataset:abc',
    tags,
    priority: 0,
    request: {
      method,
      model: 'mlx-community/Qwen3-0.6B-4bit',
      data: 'dataset:abc',
      tags,
      priority: 0,
      fuse: false,
      iters: 10,
    },
    argv: ['python3', '-m', 'mlx_lm_lora.train', '--config', 'config.yaml'],
    configYaml: 'iters: 10\n',
    runDir: `runs/run_${i}`,
    adapterPath: `runs/run_${i}/adapters`,
    createdAt: 1_700_000_000_000 + i,
    ...over,
  };
}
