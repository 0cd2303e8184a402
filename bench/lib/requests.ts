// The training requests the benchmarks submit: the README's SFT example against a local dataset.
export const BENCH_MODEL = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';

export function sftRequest(data: string, i = 0): Record<string, unknown> {
  return {
    method: 'sft',
    name: `bench-${i}`,
    model: BENCH_MODEL,
    data,
    iters: 600,
    batch_size: 4,
    learning_rate: 1e-5,
    steps_per_report: 10,
    save_every: 100,
    lora_parameters: { rank: 16, scale: 20 },
    tags: ['bench', 'sft'],
  };
}
