// What the stand-in mlx_lm_lora.train's contract tests share: a trainer() that runs it in a clean environment, the
// datasets it trains on (made before a file's tests, removed after), and the printed lines' patterns.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { afterAll, beforeAll } from 'vitest';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
// eslint-disable-next-line no-control-regex -- stripping the raw ANSI colour codes upstream prints
const ANSI = /\x1b\[[0-9;]*m/g;

export interface Run {
  exitCode: number | undefined;
  stdout: string;
  rawStdout: string;
  stderr: string;
  timedOut: boolean;
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('MLX_STANDIN_')) env[k] = v;
  }
  return {
    ...env,
    PYTHONPATH: FIXTURES,
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

export function writeJsonl(dir: string, split: string, rows: unknown[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${split}.jsonl`), rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

export function lines(text: string): string[] {
  return text.split('\n');
}

export const N = String.raw`-?(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|nan|inf)`;
export const SFT_LINE = new RegExp(
  `^Iter (\\d+): loss (${N}), lr (${N}), it/s (${N}), tok/s (${N}), trained_tok (${N}), peak_mem (${N})GB$`,
);
export const VAL_LINE = new RegExp(`^Iter (\\d+): Val loss (${N})(?:, .*?)?, Val took (${N})s$`);
export const PREF_LINE = new RegExp(
  `^Iter (\\d+): loss (${N}), chosen_r (${N}), rejected_r (${N}), acc (${N}), margin (${N}), lr (${N}), it/s (${N}), tok/s (${N}), peak_mem (${N})GB$`,
);

export interface StandInTrainer {
  /** The file's temporary folder: the trainer's working directory, and the parent of every dataset and output. */
  readonly tmp: string;
  /** 12 prompt/completion rows (valid 4, test 4). */
  readonly sftDir: string;
  /** 8 prompt/answer rows (valid 4). */
  readonly grpoDir: string;
  /** 2 preference rows: too few for a batch. */
  readonly dpoDir: string;
  /** 2 prompt/completion rows: too few for a batch. */
  readonly tinyDir: string;
  /** Runs `python -m mlx_lm_lora.train` (or `opts.module`) in tmp; stdout without ANSI codes, rawStdout with them. */
  trainer: (
    args: string[],
    opts?: { env?: Record<string, string>; timeout?: number; module?: string[] },
  ) => Promise<Run>;
}

/** Registers the hooks that make the datasets before the file's tests and remove them after. */
export function useStandInTrainer(): StandInTrainer {
  let tmp = '';
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-standin-'));
    const sftDir = path.join(tmp, 'sft');
    const sft = Array.from({ length: 12 }, (_, i) => ({
      prompt: `What is ${i} + ${i}?`,
      completion: `It is ${2 * i}.`,
    }));
    writeJsonl(sftDir, 'train', sft);
    writeJsonl(sftDir, 'valid', sft.slice(0, 4));
    writeJsonl(sftDir, 'test', sft.slice(4, 8));

    const grpoDir = path.join(tmp, 'grpo');
    const grpo = Array.from({ length: 8 }, (_, i) => ({ prompt: `Compute ${i} * 3`, answer: String(3 * i) }));
    writeJsonl(grpoDir, 'train', grpo);
    writeJsonl(grpoDir, 'valid', grpo.slice(0, 4));

    const dpoDir = path.join(tmp, 'dpo');
    writeJsonl(dpoDir, 'train', [
      { prompt: 'Explain yeast.', chosen: 'Yeast is a fungus that ferments sugar.', rejected: 'No idea.' },
      { prompt: 'Explain salt.', chosen: 'Salt seasons and tightens gluten.', rejected: 'It is white.' },
    ]);

    const tinyDir = path.join(tmp, 'tiny');
    writeJsonl(tinyDir, 'train', [
      { prompt: 'a', completion: 'b' },
      { prompt: 'c', completion: 'd' },
    ]);
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const trainer: StandInTrainer['trainer'] = async (args, opts = {}) => {
    const r = await execa('python3', [...(opts.module ?? ['-m', 'mlx_lm_lora.train']), ...args], {
      cwd: tmp,
      env: baseEnv(opts.env ?? {}),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: opts.timeout ?? 20_000,
      stripFinalNewline: false,
    });
    return {
      exitCode: r.exitCode,
      stdout: r.stdout.replace(ANSI, ''),
      rawStdout: r.stdout,
      stderr: r.stderr,
      timedOut: r.timedOut,
    };
  };
  return {
    get tmp() {
      return tmp;
    },
    get sftDir() {
      return path.join(tmp, 'sft');
    },
    get grpoDir() {
      return path.join(tmp, 'grpo');
    },
    get dpoDir() {
      return path.join(tmp, 'dpo');
    },
    get tinyDir() {
      return path.join(tmp, 'tiny');
    },
    trainer,
  };
}

/** `--train [--train-mode mode] --data data --iters iters --adapter-path out`: the arguments most runs start with. */
export function trainArgs(data: string, out: string, iters: number, mode?: string): string[] {
  return [
    '--train',
    ...(mode === undefined ? [] : ['--train-mode', mode]),
    '--data',
    data,
    '--iters',
    String(iters),
    '--adapter-path',
    out,
  ];
}
