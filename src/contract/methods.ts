// The answer of GET /v1/methods: every method with its parameters, and the options the service refuses.
import { z } from 'zod';

import { METHOD_FAMILIES, METHODS, TRAIN_MODES } from '../domain/methods.js';
import { METRIC_SPLITS } from '../domain/metric-point.js';

const OptionValue = z.union([z.number(), z.string(), z.boolean()]);

export const MethodParameter = z.strictObject({
  key: z.string(),
  flag: z.string().nullable(),
  type: z.enum(['int', 'float', 'string', 'bool', 'choice', 'path', 'object']),
  choices: z.array(z.string()).nullable(),
  default: OptionValue.nullable(),
  fixed: z.boolean(),
  required: z.boolean(),
  min: z.number().nullable(),
  exclusiveMin: z.number().nullable(),
  max: z.number().nullable(),
  exclusiveMax: z.number().nullable(),
  recommended: z.strictObject({ min: z.number(), max: z.number() }).nullable(),
  yamlOnly: z.boolean(),
  description: z.string(),
});
export type MethodParameter = z.infer<typeof MethodParameter>;

export const MethodMetric = z.strictObject({
  /** As recorded and queried (`GET /v1/runs/{id}/metrics?name=`); `reward/<function>/mean` stands for one per reward function. */
  name: z.string(),
  splits: z.array(z.enum(METRIC_SPLITS)),
  description: z.string(),
});

export const MethodEntry = z.strictObject({
  method: z.enum(METHODS),
  trainMode: z.enum(TRAIN_MODES),
  family: z.enum(METHOD_FAMILIES),
  title: z.string(),
  description: z.string(),
  requires: z.array(z.string()),
  parameters: z.array(MethodParameter),
  sampleRecord: z.record(z.string(), z.unknown()),
  rewardFunctions: z.array(z.string()).nullable(),
  /** What the trainer reports for this method: the names a sweep's metric (and its early stopping) may use. */
  metrics: z.array(MethodMetric),
  notes: z.array(z.string()),
});
export type MethodEntry = z.infer<typeof MethodEntry>;

export const MethodCatalogue = z.strictObject({
  methods: z.array(MethodEntry),
  serviceFields: z.array(z.string()),
  /** Option name -> why the service refuses it. */
  rejectedOptions: z.record(z.string(), z.string()),
  /** Other spellings a sweep's metric.name accepts, and the metric each means ("reward" depends on the method). */
  metricAliases: z.record(z.string(), z.string()),
});
export type MethodCatalogue = z.infer<typeof MethodCatalogue>;
