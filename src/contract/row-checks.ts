// Compile-time only: the domain rows the routes pass on as the repositories return them match their schemas
// field for field (strict null checks needed, so the pages' looser type check does not include this file).
import type {
  MetricRow as DomainMetricRow,
  RunAttempt as DomainRunAttempt,
  RunEvent as DomainRunEvent,
} from '../domain/run.js';
import type { OutOfMemory as DomainOutOfMemory, RunMemory as DomainRunMemory } from '../domain/run-memory.js';
import type { Expect, Same } from './common.js';
import type { OutOfMemory, RunMemory } from './memory.js';
import type { MetricRow, RunAttempt, RunEvent } from './runs.js';

export type RowsMatchTheirSchemas = [
  Expect<Same<DomainRunEvent, RunEvent>>,
  Expect<Same<DomainRunAttempt, RunAttempt>>,
  Expect<Same<DomainMetricRow, MetricRow>>,
  Expect<Same<DomainRunMemory, RunMemory>>,
  Expect<Same<DomainOutOfMemory, OutOfMemory>>,
];
