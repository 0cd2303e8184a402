// Asks the configured Python which mlx-lm-lora (and Python, mlx, mlx-lm) it has: at worker start, every
// PREFLIGHT_RECHECK_S while it fails, and on SIGHUP.
import { execa } from 'execa';

import { type FlagSet, flagSetSchema } from '../domain/flag-set.js';
import { INTROSPECT_PY } from './trainer-probe.js';

const PROBE = [
  'import importlib, json, platform, importlib.metadata as md',
  'def version(dist):',
  '    try:',
  '        return md.version(dist)',
  '    except Exception:',
  '        return None',
  'out = {"python": platform.python_version(), "mlx": version("mlx"), "mlxLm": version("mlx-lm"), "mlxLmLora": None}',
  'print("MLXQ-VERSIONS " + json.dumps(out), flush=True)',
  INTROSPECT_PY,
  'try:',
  '    print("MLXQ-ENV " + json.dumps(environment()), flush=True)',
  'except Exception as e:',
  '    print("MLXQ-ENV " + json.dumps({"os": None, "chip": None, "memoryBytes": None, "error": str(e)}), flush=True)',
  'train = importlib.import_module("mlx_lm_lora.train")',
  'v = version("mlx-lm-lora")',
  'if v is None:',
  '    import mlx_lm_lora',
  '    v = getattr(mlx_lm_lora, "__version__", None) or importlib.import_module("mlx_lm_lora._version").__version__',
  'out["mlxLmLora"] = v',
  'print("MLXQ-VERSIONS " + json.dumps(out), flush=True)',
  'try:',
  '    print("MLXQ-FLAGS " + json.dumps(flag_set(train, v)), flush=True)',
  'except Exception as e:',
  '    print("MLXQ-FLAGS-ERROR " + str(e), flush=True)',
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
  /** The installed trainer's flags (build_parser(), else --help); null when they could not be read. */
  flagSet: FlagSet | null;
  /** OS, chip and memory of this machine, as the worker's Python sees them. */
  environment: TrainerEnvironment | null;
}

export type TrainerEnvironment = { os: string | null; chip: string | null; memoryBytes: number | null };

const NO_VERSIONS: TrainerVersions = { python: null, mlx: null, mlxLm: null, mlxLmLora: null };

function lastVersions(stdout: string): TrainerVersions {
  const line = stdout
    .split('\n')
    .filter((l) => l.startsWith('MLXQ-VERSIONS '))
    .at(-1);
  if (!line) return NO_VERSIONS;
  try {
    return {
      ...NO_VERSIONS,
      ...(JSON.parse(line.slice('MLXQ-VERSIONS '.length)) as Partial<TrainerVersions>),
    };
  } catch {
    // Handled: an unreadable line means the versions are unknown.
    return NO_VERSIONS;
  }
}

/** The JSON of the last `<tag> {...}` line, or null. */
function tagged(stdout: string, tag: string): unknown {
  const line = stdout
    .split('\n')
    .filter((l) => l.startsWith(`${tag} `))
    .at(-1);
  if (!line) return null;
  try {
    return JSON.parse(line.slice(tag.length + 1));
  } catch {
    // Handled: an unreadable line means the value is unknown.
    return null;
  }
}

function environmentOf(stdout: string): TrainerEnvironment | null {
  const e = tagged(stdout, 'MLXQ-ENV') as Partial<TrainerEnvironment> | null;
  if (!e || typeof e !== 'object') return null;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
  return {
    os: str(e.os),
    chip: str(e.chip),
    memoryBytes: typeof e.memoryBytes === 'number' ? e.memoryBytes : null,
  };
}

export async function preflightMlx(python: string, env: Record<string, string> = {}): Promise<Preflight> {
  const r = await execa(python, ['-c', PROBE], {
    env,
    extendEnv: true,
    reject: false,
    timeout: 120_000,
    stdin: 'ignore',
  });
  const stdout = r.stdout ?? '';
  const versions = lastVersions(stdout);
  const environment = environmentOf(stdout);
  const parsed = flagSetSchema.safeParse(tagged(stdout, 'MLXQ-FLAGS'));
  const flagSet = parsed.success && parsed.data.options.length > 0 ? parsed.data : null;
  if (r.exitCode === 0 && versions.mlxLmLora)
    return { version: versions.mlxLmLora, error: null, versions, flagSet, environment };
  return { version: null, error: whyNot(python, r), versions, flagSet: null, environment };
}

function whyNot(
  python: string,
  r: { stderr?: string; message?: string; code?: string; exitCode?: number },
): string {
  const install = `${python} -m pip install mlx-lm-lora`;
  if (r.code === 'ENOENT' || r.exitCode === undefined)
    return `${python} not found (set MLX_PYTHON to the Python that has mlx-lm-lora)`;
  const last = (r.stderr || r.message || '').trim().split('\n').at(-1) ?? 'unknown error';
  if (/No module named '?mlx_lm_lora/.test(last)) return `mlx-lm-lora not installed (${install})`;
  return `"${python} -m mlx_lm_lora.train" cannot run (${last}); reinstall it with: ${install} (or set MLX_PYTHON to the Python that has it)`;
}
