// Walks the table of methods and checks each view derived from it: request schemas, YAML import, dataset formats and
// tiny-data validation, the metrics catalogue (against the trainer's printed output), and the pages' constants.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { detectFormat } from '../../src/domain/dataset-format.js';
import { RequestValidationError } from '../../src/domain/errors.js';
import { methodMetrics, resolveMetric } from '../../src/domain/method-metrics.js';
import { REWARD_FUNCTION_METRIC } from '../../src/domain/method-metrics.js';
import {
  type Method,
  METHOD_INFO,
  METHODS,
  MODE_TABLE,
  type OutputDialect,
  sweepRewardOf,
  TRAIN_MODES,
} from '../../src/domain/methods.js';
import {
  appliesTo,
  BUILTIN_REWARD_FUNCTIONS,
  COMMON_OPTION_KEYS,
  type OptionSpec,
  RUN_KEYS,
  RUN_OPTIONS,
} from '../../src/domain/run-options.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { createTrainerOutputParser } from '../../src/domain/trainer-output.js';
import { runRequestFromYamlConfig } from '../../src/domain/yaml-config.js';
import { WEB_CONSTANTS_FILE } from '../../src/shared/web-constants.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const base = { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', data: './test_data/grpo', iters: 10 };

/** What each method needs beyond the base: a value for every required key. */
function needed(method: Method): Record<string, unknown> {
  const values: Record<string, unknown> = {
    judge: 'mlx-community/Qwen2.5-1.5B-Instruct-4bit',
    epsilon_high: 0.28,
  };
  return Object.fromEntries(METHOD_INFO[method].requires.map((key) => [key, values[key]]));
}

/** A value the option's own rules accept (kind, range, choices), for the method. */
function validValue(o: OptionSpec, method: Method): unknown {
  const fixed = METHOD_INFO[method].fixed?.[o.key];
  if (fixed !== undefined) return fixed;
  const special: Record<string, unknown> = {
    reward_functions: [BUILTIN_REWARD_FUNCTIONS[0]],
    reward_weights: BUILTIN_REWARD_FUNCTIONS.map(() => 1),
    lr_schedule: { name: 'cosine_decay', arguments: [1e-5, 10] },
    epsilon_high: 0.28,
    test: false,
  };
  if (o.key in special) return special[o.key];
  if (o.default !== undefined) return o.default;
  if (o.kind === 'int' || o.kind === 'float') return (o.min ?? o.gt ?? 0) + 1;
  if (o.kind === 'object') return {};
  return 'x';
}

function issuesOf(body: Record<string, unknown>) {
  try {
    parseRunRequest(body);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
}

describe('the request schemas follow the table', () => {
  it.each(METHODS)('%s takes exactly the options its mode takes', (method) => {
    const mode = METHOD_INFO[method].trainMode;
    for (const o of RUN_OPTIONS) {
      if ((RUN_KEYS as readonly string[]).includes(o.key)) continue; // the base sets them (iters xor epochs)
      const body = { method, ...base, ...needed(method), fuse: true, [o.key]: validValue(o, method) };
      const issues = issuesOf(body);
      if (appliesTo(o, mode)) expect(issues, o.key).toEqual([]);
      else
        expect(issues, o.key).toEqual([
          { path: o.key, message: expect.stringMatching(`^does not apply to method ${method} `) },
        ]);
    }
  });

  it.each(METHODS)('%s requires what its entry requires (its judge, a variant its options)', (method) => {
    const info = METHOD_INFO[method];
    expect(info.requires.includes('judge')).toBe(info.mode.judge);
    for (const key of info.requires) {
      const body: Record<string, unknown> = { method, ...base, ...needed(method) };
      delete body[key];
      expect(issuesOf(body)).toEqual([{ path: key, message: `is required for method ${method}` }]);
    }
  });

  it.each(METHODS)('%s refuses test: true exactly when --test crashes for its mode', (method) => {
    const issues = issuesOf({ method, ...base, ...needed(method), test: true });
    expect(issues.some((i) => i.path === 'test')).toBe(METHOD_INFO[method].mode.test !== 'works');
  });

  it.each(METHODS)('%s refuses a "human" judge exactly when it has a judge', (method) => {
    const issues = issuesOf({ method, ...base, ...needed(method), judge: 'human' });
    expect(issues.map((i) => i.message).join()).toMatch(
      METHOD_INFO[method].mode.judge ? /cannot work from the CLI/ : /does not apply/,
    );
  });

  it.each(METHODS.filter((m) => METHOD_INFO[m].fixed))(
    'variant %s refuses other values of what it fixes',
    (m) => {
      for (const key of Object.keys(METHOD_INFO[m].fixed!)) {
        const other = RUN_OPTIONS.find((o) => o.key === key)!.choices!.find(
          (c) => c !== METHOD_INFO[m].fixed![key],
        );
        expect(issuesOf({ method: m, ...base, [key]: other })).toEqual([
          { path: key, message: expect.stringMatching(`^method ${m} means ${key}=`) },
        ]);
      }
    },
  );
});

describe('YAML import follows the table', () => {
  it.each(METHODS)('train_mode plus the options of %s map back to it', (method) => {
    const info = METHOD_INFO[method];
    const config = { train_mode: info.trainMode, ...base, ...needed(method), ...info.fixed, fuse: false };
    const { body } = runRequestFromYamlConfig(config);
    expect(body.method).toBe(method);
    expect(parseRunRequest(body).request.method).toBe(method);
  });
});

describe('dataset formats and tiny datasets follow the table', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const validator = createDatasetValidator({ cacheEntries: 0 });

  async function validate(mode: (typeof TRAIN_MODES)[number], rows: number) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-method-table-'));
    dirs.push(dir);
    const line = `${JSON.stringify(MODE_TABLE[mode].dataset.sample)}\n`;
    fs.writeFileSync(path.join(dir, 'train.jsonl'), line.repeat(rows));
    return validator.validate({ dir, mode, batchSize: 2 });
  }

  it.each(TRAIN_MODES)('the %s sample record is one of its formats and a valid dataset', async (mode) => {
    const entry = MODE_TABLE[mode].dataset;
    const found = detectFormat(mode, { ...entry.sample });
    expect('format' in found && (entry.formats as readonly string[]).includes(found.format)).toBe(true);
    const report = await validate(mode, 2);
    expect(report.problems).toEqual([]);
  });

  it.each(TRAIN_MODES)('%s: fewer rows than batch_size is refused with what upstream does', async (mode) => {
    const report = await validate(mode, 1);
    const [problem] = report.problems;
    expect(report.problems).toHaveLength(1);
    if (MODE_TABLE[mode].tinyData.behaviour === 'hangs')
      expect(problem!.message).toMatch(new RegExp(`${mode} training hangs forever$`));
    else expect(problem!.message).toMatch(/upstream raises/);
  });
});

/** One recorded output per dialect: what the trainer prints for modes of that dialect. */
const DIALECT_FIXTURES: Record<OutputDialect, string> = {
  'lora-line': 'sft.txt',
  'preference-line': 'dpo.txt',
  'online-line': 'online-dpo.txt',
  'rlhf-line': 'rlhf-reinforce.txt',
  'grpo-block': 'grpo.txt',
  'ftpo-line': 'ftpo.txt',
};

describe('the metrics catalogue follows the table', () => {
  it.each(METHODS)('%s reports its mode metrics, and "reward" means its entry reward', (method) => {
    const { mode } = METHOD_INFO[method];
    expect(methodMetrics(method)).toBe(mode.metrics);
    const reward = resolveMetric([method], 'reward', undefined);
    expect(reward).toEqual(
      mode.reward ? { ok: true, ...mode.reward } : expect.objectContaining({ ok: false }),
    );
  });

  it('a sweep table shows the mean total reward of the modes with reward functions (GRPO), no reward for the rest', () => {
    const shown = TRAIN_MODES.filter((m) => sweepRewardOf(m) !== null);
    expect(shown).toEqual(['grpo']);
    expect(sweepRewardOf('grpo')).toEqual({ name: 'total_rewards_mean', split: 'train' });
    expect(METHODS.filter((m) => sweepRewardOf(METHOD_INFO[m].trainMode))).toEqual([
      'grpo',
      'gspo',
      'dr_grpo',
      'dapo',
    ]);
  });

  it.each(TRAIN_MODES)('every metric the %s output dialect prints is in its list', (mode) => {
    const { output, metrics } = MODE_TABLE[mode];
    const text = fs.readFileSync(path.join(ROOT, 'test/fixtures/output', DIALECT_FIXTURES[output]), 'utf8');
    const parser = createTrainerOutputParser();
    const events = [...text.split(/\r|\n/).flatMap((l) => parser.push(l)), ...parser.end()];
    const printed = events.flatMap((e) => (e.kind === 'metrics' ? e.points : []));
    expect(printed.length).toBeGreaterThan(0);
    for (const p of printed) {
      const name = REWARD_FUNCTION_METRIC.test(p.name) ? 'reward/<function>/mean' : p.name;
      const listed = metrics.find((m) => m.name === name);
      expect(listed?.splits, `${p.split} ${p.name}`).toContain(p.split);
    }
  });
});

describe('the pages constants follow the table', () => {
  it('COMMON_OPTION_KEYS are the options every mode takes, RUN_KEYS among them', async () => {
    const web = (await import(path.join(ROOT, WEB_CONSTANTS_FILE))) as Record<string, readonly string[]>;
    const everyMode = RUN_OPTIONS.filter((o) => TRAIN_MODES.every((m) => appliesTo(o, m))).map((o) => o.key);
    expect(web.COMMON_OPTION_KEYS).toEqual(everyMode);
    expect([...COMMON_OPTION_KEYS]).toEqual(everyMode);
    expect(web.RUN_KEYS).toEqual(RUN_KEYS);
    for (const key of RUN_KEYS) expect(everyMode).toContain(key);
  });
});
