// The HTTP contract: each route's answer as a zod schema, shared by the API (which declares them), the CLI and the
// pages (which import their types). The named ones become components of the OpenAPI document.
import type { z } from 'zod';

import { FieldIssue, FileIssue } from './common.js';
import { DatasetReport, DatasetView } from './datasets.js';
import { ArtifactView, JobView } from './jobs.js';
import { MethodEntry, MethodParameter } from './methods.js';
import { MetricRow, RunAttempt, RunDetail, RunEvent, RunProgress, RunSummary, RunView } from './runs.js';
import { BestRun, SweepDetail, SweepRunRow, SweepSummary } from './sweeps.js';
import { ControlAnswer, RunInputs, RunState, StopSignal } from './worker-protocol.js';

export const NAMED_ANSWER_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  FieldIssue,
  FileIssue,
  RunProgress,
  RunSummary,
  RunView,
  RunDetail,
  MetricRow,
  RunEvent,
  RunAttempt,
  DatasetReport,
  DatasetView,
  MethodEntry,
  MethodParameter,
  SweepRunRow,
  BestRun,
  SweepSummary,
  SweepDetail,
  JobView,
  ArtifactView,
  RunInputs,
  RunState,
  ControlAnswer,
  StopSignal,
};
