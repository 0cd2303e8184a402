// GET /v1/methods: every method with its parameters, defaults, recommended ranges and a sample record.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { MethodCatalogue, type MethodEntry } from '../../contract/methods.js';
import { sampleRecord } from '../../domain/dataset-format.js';
import { methodMetrics, METRIC_ALIASES } from '../../domain/method-metrics.js';
import { METHOD_INFO, METHODS, modeTakesOption } from '../../domain/methods.js';
import {
  appliesTo,
  BUILTIN_REWARD_FUNCTIONS,
  REJECTED_OPTIONS,
  RUN_OPTIONS,
} from '../../domain/run-options.js';
import type { AppDeps } from '../app.js';

export function describeMethods(): MethodEntry[] {
  return METHODS.map((method) => {
    const info = METHOD_INFO[method];
    const parameters = RUN_OPTIONS.filter((o) => appliesTo(o, info.trainMode)).map((o) => ({
      key: o.key,
      flag: o.flag ?? null,
      type: o.kind,
      choices: o.choices ? [...o.choices] : null,
      default: info.fixed?.[o.key] ?? o.default ?? null,
      fixed: info.fixed?.[o.key] !== undefined,
      required: ['model', 'data'].includes(o.key) || info.requires.includes(o.key),
      min: o.min ?? null,
      exclusiveMin: o.gt ?? null,
      max: o.max ?? null,
      exclusiveMax: o.lt ?? null,
      recommended: o.recommended ?? null,
      yamlOnly: o.flag === undefined,
      description: o.description,
    }));
    return {
      method,
      trainMode: info.trainMode,
      family: info.family,
      title: info.title,
      description: info.description,
      requires: ['model', 'data', 'iters | epochs', ...info.requires],
      parameters,
      sampleRecord: sampleRecord(info.trainMode),
      rewardFunctions: modeTakesOption(info.trainMode, 'reward_functions')
        ? [...BUILTIN_REWARD_FUNCTIONS]
        : null,
      metrics: methodMetrics(method).map((x) => ({
        name: x.name,
        splits: [...x.splits],
        description: x.description,
      })),
      notes: [
        ...(info.mode.tinyData.behaviour === 'hangs'
          ? [
              'Upstream hangs forever when a split has fewer rows than batch_size; the service refuses such datasets.',
            ]
          : []),
        ...(info.mode.test !== 'works'
          ? ['test: true is refused: mlx-lm-lora 3.1.2 crashes in --test for this train mode.']
          : []),
      ],
    };
  });
}

/** What `reward` means, by method: "train total_rewards_mean (grpo, gspo, …), train rewards (rlhf_reinforce)". */
function describeReward(): string {
  const byMetric = new Map<string, string[]>();
  for (const method of METHODS) {
    const reward = METHOD_INFO[method].mode.reward;
    if (!reward) continue;
    const metric = `${reward.split} ${reward.name}`;
    byMetric.set(metric, [...(byMetric.get(metric) ?? []), method]);
  }
  return [...byMetric].map(([metric, methods]) => `${metric} (${methods.join(', ')})`).join(', ');
}

function describeAliases(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(METRIC_ALIASES).map(([alias, t]) => [
      alias,
      t === 'reward' ? describeReward() : `${t.split} ${t.name}`,
    ]),
  );
}

export const methodRoutes: FastifyPluginAsyncZod<AppDeps> = async (app) => {
  const body: MethodCatalogue = {
    methods: describeMethods(),
    serviceFields: ['method', 'name', 'tags', 'priority', 'fuse'],
    rejectedOptions: REJECTED_OPTIONS,
    metricAliases: describeAliases(),
  };
  app.get('/v1/methods', { schema: { response: { 200: MethodCatalogue } } }, async () => body);
};
