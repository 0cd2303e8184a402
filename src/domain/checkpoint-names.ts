// Pure: the names the trainer gives the files in its adapter folder, and the run's iteration a checkpoint carries.
// mlx-lm-lora saves `<iteration, 7 digits>_adapters.safetensors` every --save-every steps, and adapters.safetensors
// (with adapter_config.json) as the latest adapter.

/** The latest (at the end: the final) adapter. */
export const ADAPTER_FILE = 'adapters.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** Upstream's `f"{it:07d}_adapters.safetensors"`: seven digits at least (an iteration past 9,999,999 has more). */
const CHECKPOINT = /^(\d{7,})_adapters\.safetensors$/;

/** The checkpoint file of an iteration: 20 is `0000020_adapters.safetensors`. */
export function checkpointFileName(iteration: number): string {
  return `${String(iteration).padStart(7, '0')}_adapters.safetensors`;
}

/** The iteration a checkpoint file name carries (`0000020_adapters.safetensors` is 20), or null for other files. */
export function checkpointIteration(name: string): number | null {
  const m = CHECKPOINT.exec(name);
  return m ? Number.parseInt(m[1]!, 10) : null;
}
