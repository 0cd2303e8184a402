// The stand-in trainer's 20-iteration SFT run with validation, checkpoints and fusing: what the stand-in contract test
// checks line by line and the benchmark figure bench/figures/stand-in.ts times (no vitest here: the bench imports it).

/** The mlx_lm_lora.train arguments: 20 iterations, a report every 5, validation and a checkpoint every 10, seed 7. */
export function sftRunArgs(data: string, out: string): string[] {
  return [
    '--train',
    '--data',
    data,
    '--iters',
    '20',
    '--steps-per-report',
    '5',
    '--steps-per-eval',
    '10',
    '--save-every',
    '10',
    '--adapter-path',
    out,
    '--seed',
    '7',
  ];
}
