// Asks the configured Python which mlx-lm-lora it has, once at worker start.
import { execa } from 'execa';

const PROBE = [
  'import importlib, importlib.metadata as md',
  'importlib.import_module("mlx_lm_lora.train")',
  'v = None',
  'try:\n    v = md.version("mlx-lm-lora")\nexcept Exception:\n    pass',
  'if v is None:\n    import mlx_lm_lora\n    v = getattr(mlx_lm_lora, "__version__", None) or importlib.import_module("mlx_lm_lora._version").__version__',
  'print(v)',
].join('\n');

export interface Preflight {
  version: string | null;
  error: string | null;
}

export async function preflightMlx(python: string, env: Record<string, string> = {}): Promise<Preflight> {
  const r = await execa(python, ['-c', PROBE], { env, extendEnv: true, reject: false, timeout: 60_000, stdin: 'ignore' });
  if (r.exitCode === 0 && r.stdout.trim()) return { version: r.stdout.trim().split('\n').at(-1)!, error: null };
  const why = (r.stderr || r.message || '').trim().split('\n').at(-1) ?? 'unknown error';
  return {
    version: null,
    error: `"${python} -m mlx_lm_lora.train" cannot run (${why}). Install it with: ${python} -m pip install mlx-lm-lora (or set MLX_PYTHON to the Python that has it)`,
  };
}
