// Asks the configured Python which mlx-lm-lora (and Python, mlx, mlx-lm) it has: at worker start, every
// PREFLIGHT_RECHECK_S while it fails, and on SIGHUP.
import { execa } from 'execa';

const PROBE = [
  'import importlib, json, platform, importlib.metadata as md',
  'def version(dist):',
  '    try:',
  '        return md.version(dist)',
  '    except Exception:',
  '        return None',
  'out = {"python": platform.python_version(), "mlx": version("mlx"), "mlxLm": version("mlx-lm"), "mlxLmLora": None}',
  'print("MLXQ-VERSIONS " + json.dumps(out), flush=True)',
  'importlib.import_module("mlx_lm_lora.train")',
  'v = version("mlx-lm-lora")',
  'if v is None:',
  '    import mlx_lm_lora',
  '    v = getattr(mlx_lm_lora, "__version__", None) or importlib.import_module("mlx_lm_lora._version").__version__',
  'out["mlxLmLora"] = v',
  'print("MLXQ-VERSIONS " + json.dumps(out))',
].join('\n');

// A type, not an interface: it must fit the registry entry's open (extensible) versions object.
export type TrainerVersions = {
  python: string | null;
  mlx: string | null;
  mlxLm: string | null;
  mlxLmLora: string | null;
};

export interface Preflight {
  /** mlx-lm-lora's version; null when the trainer cannot run. */
  version: string | null;
  /** Why the trainer cannot run, with what to do about it; null when it can. */
  error: string | null;
  versions: TrainerVersions;
}

const NO_VERSIONS: TrainerVersions = { python: null, mlx: null, mlxLm: null, mlxLmLora: null };

function lastVersions(stdout: string): TrainerVersions {
  const line = stdout.split('\n').filter((l) => l.startsWith('MLXQ-VERSIONS ')).at(-1);
  if (!line) return NO_VERSIONS;
  try {
    return { ...NO_VERSIONS, ...(JSON.parse(line.slice('MLXQ-VERSIONS '.length)) as Partial<TrainerVersions>) };
  } catch {
    // Handled: an unreadable line means the versions are unknown.
    return NO_VERSIONS;
  }
}

export async function preflightMlx(python: string, env: Record<string, string> = {}): Promise<Preflight> {
  const r = await execa(python, ['-c', PROBE], { env, extendEnv: true, reject: false, timeout: 60_000, stdin: 'ignore' });
  const versions = lastVersions(r.stdout ?? '');
  if (r.exitCode === 0 && versions.mlxLmLora) return { version: versions.mlxLmLora, error: null, versions };
  return { version: null, error: whyNot(python, r), versions };
}

function whyNot(python: string, r: { stderr?: string; message?: string; code?: string; exitCode?: number }): string {
  const install = `${python} -m pip install mlx-lm-lora`;
  if (r.code === 'ENOENT' || r.exitCode === undefined) return `${python} not found (set MLX_PYTHON to the Python that has mlx-lm-lora)`;
  const last = (r.stderr || r.message || '').trim().split('\n').at(-1) ?? 'unknown error';
  if (/No module named '?mlx_lm_lora/.test(last)) return `mlx-lm-lora not installed (${install})`;
  return `"${python} -m mlx_lm_lora.train" cannot run (${last}); reinstall it with: ${install} (or set MLX_PYTHON to the Python that has it)`;
}
