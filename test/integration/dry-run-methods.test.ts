// Dry runs of every method and of the options that matter answer an argv and config.yaml that the strict stand-in
// CLI accepts and trains with; a dry run creates no run.
import { describe, expect, it } from 'vitest';

import { METHOD_INFO, METHODS } from '../../src/domain/methods.js';
import { dryRunOf, requestFor, runThroughStandIn } from '../helpers/dry-run.js';
import { GRPO_OPTIONS } from '../helpers/grpo-options.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const dryRun = dryRunOf(env);

describe('dry runs answer an argv that the strict stand-in CLI accepts and trains with', () => {
  it.each(METHODS)('%s', async (method) => {
    const res = await dryRun(requestFor(method));
    expect(res.statusCode, res.body).toBe(200);
    const { argv, config, dataset } = res.json();
    expect(argv.slice(0, 3)).toEqual(['python3', '-m', 'mlx_lm_lora.train']);
    expect(argv).toContain(`--train-mode=${METHOD_INFO[method].trainMode}`);
    expect(config).toContain('fuse: false');
    expect(dataset.ok).toBe(true);
    const r = await runThroughStandIn(argv, config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.adapters).toBe(true);
    expect(r.fused).toBe(false);
  });

  it.each([
    [
      'grpo with every GRPO option',
      requestFor('grpo', { ...GRPO_OPTIONS, importance_sampling_level: 'token' }),
    ],
    [
      'sft with YAML-only keys and booleans',
      requestFor('sft', {
        lora_parameters: { rank: 4, dropout: 0.1, scale: 16 },
        lr_schedule: { name: 'cosine_decay', arguments: [1e-5, 6], warmup: 2 },
        optimizer: 'adamw',
        optimizer_config: { adamw: { weight_decay: 0.01 } },
        grad_checkpoint: true,
        mask_prompt: true,
        sft_loss_type: 'chunked_nll',
        train_type: 'dora',
        num_layers: 4,
        max_seq_length: 1024,
        epochs: undefined,
      }),
    ],
    ['sft by epochs', { ...requestFor('sft'), iters: undefined, epochs: 1 }],
    [
      'dpo with loss options and test',
      requestFor('dpo', {
        dpo_cpo_loss_type: 'dpop',
        delta: 20,
        beta: 0.2,
        test: false,
        load_in_4bits: true,
      }),
    ],
    [
      'ppo with judge options',
      requestFor('ppo', {
        epsilon: 0.2,
        temperature: 0.7,
        max_completion_length: 64,
        judge_config: { system_prompt: 'Be strict.' },
      }),
    ],
    [
      'ftpo with its options',
      requestFor('ftpo', {
        lambda_mse_target: 0.1,
        tau_mse_target: 0.5,
        lambda_mse: 0.2,
        clip_epsilon_logits: 1.5,
      }),
    ],
    ['fuse on', requestFor('sft', { fuse: true })],
  ])('%s', async (_name, body) => {
    const res = await dryRun(JSON.parse(JSON.stringify(body)));
    expect(res.statusCode, res.body).toBe(200);
    const { argv, config } = res.json();
    const r = await runThroughStandIn(argv, config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.adapters).toBe(true);
    expect(r.fused).toBe((body as { fuse?: boolean }).fuse === true);
  });

  it('creates no run', async () => {
    await dryRun(requestFor('sft'));
    const list = (await env.app.inject({ method: 'GET', url: '/v1/runs' })).json();
    expect(list.items).toEqual([]);
  });
});
