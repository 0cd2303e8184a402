// reward_functions_file: the functions a user's file registers are accepted and run by the trainer; a name the file
// does not register, or a file that does not exist, is a 400 naming the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { BREVITY_REWARD_PY, dryRunOf, requestFor, runThroughStandIn } from '../helpers/dry-run.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const dryRun = dryRunOf(env);

describe('reward_functions_file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-rewards-'));
  const file = path.join(dir, 'rewards.py');
  fs.writeFileSync(
    file,
    BREVITY_REWARD_PY +
      '\n' +
      [
        '@register_reward_function(name="exact_match")',
        'def _exact(prompts, completions, answer, types=None):',
        '    return [2.0 if c.strip() == a.strip() else 0.0 for c, a in zip(completions, answer)]',
        '',
      ].join('\n'),
  );
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts functions the file registers, and the trainer runs them', async () => {
    const body = requestFor('grpo', {
      reward_functions_file: file,
      reward_functions: ['brevity_reward', 'exact_match', 'r1_count_xml'],
    });
    const res = await dryRun(body);
    expect(res.statusCode, res.body).toBe(200);
    const { argv, config } = res.json();
    expect(argv).toContain('--reward-functions=brevity_reward,exact_match,r1_count_xml');
    const r = await runThroughStandIn(argv, config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/• brevity_reward: μ=/);
    expect(r.adapters).toBe(true);
  });

  it('refuses a name the file does not register, naming what it found', async () => {
    const res = await dryRun(
      requestFor('grpo', { reward_functions_file: file, reward_functions: ['brevity'] }),
    );
    expect(res.statusCode).toBe(400);
    const issue = res.json().issues.find((i: { path: string }) => i.path === 'reward_functions');
    expect(issue.message).toMatch(/"brevity".*found: brevity_reward, exact_match/);
  });

  it('refuses a file that does not exist', async () => {
    const res = await dryRun(
      requestFor('grpo', { reward_functions_file: path.join(dir, 'nope.py'), reward_functions: ['x'] }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().issues.map((i: { path: string }) => i.path)).toContain('reward_functions_file');
  });
});
