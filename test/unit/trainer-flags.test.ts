// The worker's preflight reads the installed trainer's flags; the builder and the per-worker check work from them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

import { buildCommand } from '../../src/domain/build-command.js';
import { alwaysOnCli, type FlagSet, VERIFIED_FLAG_SET } from '../../src/domain/flag-set.js';
import { RUN_OPTIONS } from '../../src/domain/run-options.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { VERIFIED_OPTIONS } from '../../src/domain/verified-flag-set.js';
import { flagSetReason } from '../../src/domain/worker-flag-check.js';
import { preflightMlx } from '../../src/worker/preflight.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const env = (extra: Record<string, string> = {}) => ({ PYTHONPATH: FIXTURES, ...extra });
const TIMEOUT = 60_000;

async function flagsOf(version?: string, noBuildParser = false): Promise<FlagSet> {
  const p = await preflightMlx(
    'python3',
    env({
      ...(version ? { MLX_STANDIN_VERSION: version } : {}),
      ...(noBuildParser ? { MLX_STANDIN_NO_BUILD_PARSER: '1' } : {}),
    }),
  );
  expect(p.error).toBeNull();
  expect(p.flagSet).not.toBeNull();
  return p.flagSet!;
}

/** Parses argv (after `python -m mlx_lm_lora.train`) with the release's own argparse; exit 0 or its error. */
async function argparseAccepts(version: string, argv: string[]): Promise<{ ok: boolean; stderr: string }> {
  const code =
    'import json, sys\nimport mlx_lm_lora.train as t\nt._build_parser().parse_args(json.loads(sys.argv[1]))';
  const r = await execa('python3', ['-c', code, JSON.stringify(argv.slice(3))], {
    env: env({ MLX_STANDIN_VERSION: version }),
    reject: false,
  });
  return { ok: r.exitCode === 0, stderr: r.stderr };
}

const model = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';
const req = (body: Record<string, unknown>) =>
  parseRunRequest({ model, data: 'test_data/sft-chat', iters: 10, ...body }).request;
const ctx = (flagSet: FlagSet) => ({ python: 'python3', runDir: path.join('runs', 'r1'), flagSet });

describe('preflight reads the installed parser', () => {
  it(
    '3.1.2 through build_parser(): exactly the verified flag set, with the machine',
    { timeout: TIMEOUT },
    async () => {
      const p = await preflightMlx('python3', env());
      expect(p.flagSet).toEqual({ version: '3.1.2', source: 'build_parser', options: VERIFIED_OPTIONS });
      expect(p.environment?.os).toEqual(expect.any(String));
      expect(p.environment?.memoryBytes).toBeGreaterThan(0);
    },
  );

  it('without build_parser(), from --help: the same flags and choices', { timeout: TIMEOUT }, async () => {
    const set = await flagsOf(undefined, true);
    expect(set.source).toBe('help');
    const shape = (s: FlagSet) => s.options.map((o) => [o.flag, o.dest, o.choices]);
    expect(shape(set)).toEqual(shape(VERIFIED_FLAG_SET));
  });

  it(
    "older releases: their own tags' parsers (0.8.1: 48 options, 0.7.0: 46)",
    { timeout: TIMEOUT },
    async () => {
      const [v081, v070] = await Promise.all([flagsOf('0.8.1'), flagsOf('0.7.0')]);
      expect([v081.version, v081.options.length]).toEqual(['0.8.1', 48]);
      expect([v070.version, v070.options.length]).toEqual(['0.7.0', 46]);
      expect(v070.options.some((o) => o.flag === '--importance-sampling-level')).toBe(false);
    },
  );
});

describe('the builder works from the installed flag set', () => {
  it('puts on the command line exactly the options whose 3.1.2 parser default is not None', () => {
    const derived = RUN_OPTIONS.filter((o) => alwaysOnCli(VERIFIED_FLAG_SET, o)).map((o) => o.key);
    expect(derived).toEqual(RUN_OPTIONS.filter((o) => o.cliAlways).map((o) => o.key));
  });

  it.each(['0.7.0', '0.8.1', '5.10.2'])(
    "plain requests of every method build commands %s's argparse accepts",
    { timeout: TIMEOUT },
    async (version) => {
      const set = await flagsOf(version);
      const modes = set.options.find((o) => o.flag === '--train-mode')!.choices!;
      const bodies = [
        { method: 'sft' },
        { method: 'sft', learning_rate: 1e-7, batch_size: 2 },
        { method: 'dpo', data: 'test_data/dpo', beta: 0.2, delta: -1e-7 },
        {
          method: 'grpo',
          data: 'test_data/grpo',
          reward_weights: [-0.5, 1],
          reward_functions: ['r1_accuracy_reward_func', 'r1_int_reward_func'],
        },
        { method: 'orpo', data: 'test_data/orpo' },
      ].filter((b) => modes.includes(b.method));
      for (const body of bodies) {
        const built = buildCommand(req(body), ctx(set));
        expect(built.unsupported, JSON.stringify(body)).toEqual([]);
        expect(built.flagSet).toEqual({ version, source: 'build_parser' });
        const r = await argparseAccepts(version, built.argv);
        expect(r.ok, `${JSON.stringify(body)}: ${r.stderr}`).toBe(true);
      }
    },
  );

  it(
    'never emits a flag the installed trainer lacks, and says what the request needed of it',
    { timeout: TIMEOUT },
    async () => {
      const v070 = await flagsOf('0.7.0');
      const plainGrpo = buildCommand(req({ method: 'grpo', data: 'test_data/grpo' }), ctx(v070));
      expect(plainGrpo.argv.some((a) => a.startsWith('--importance-sampling-level'))).toBe(false);
      expect(plainGrpo.unsupported).toEqual([]);
      const gspo = buildCommand(req({ method: 'gspo', data: 'test_data/grpo' }), ctx(v070));
      expect(gspo.unsupported.map((u) => u.key)).toContain('importance_sampling_level');
      expect((await argparseAccepts('0.7.0', gspo.argv)).ok).toBe(true);
    },
  );
});

describe('the per-worker flag-set check', () => {
  it('names the option, the worker and the version', { timeout: TIMEOUT }, async () => {
    const v070 = await flagsOf('0.7.0');
    const worker = { name: 'vm-1', flagSet: v070 };
    expect(
      flagSetReason(
        req({ method: 'grpo', data: 'test_data/grpo', importance_sampling_level: 'sequence' }),
        worker,
      ),
    ).toBe('importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level');
    expect(flagSetReason(req({ method: 'ftpo', data: 'test_data/ftpo' }), worker)).toMatch(
      /^method: mlx-lm-lora 0\.7\.0 on vm-1 does not accept --train-mode=ftpo \(it takes sft, /,
    );
    expect(flagSetReason(req({ method: 'sft' }), worker)).toBeNull();
    expect(
      flagSetReason(req({ method: 'grpo', data: 'test_data/grpo', importance_sampling_level: 'sequence' }), {
        name: 'old',
        flagSet: null,
      }),
    ).toBeNull();
  });
});
