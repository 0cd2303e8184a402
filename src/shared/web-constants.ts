// The domain lists the pages need (run statuses and their groups, the option keys every method takes), written as a
// small ES module the browser loads:
// web/js/generated/domain.js is this module's output, and a unit test fails when the two differ.
import { COMMON_OPTION_KEYS, RUN_KEYS } from '../domain/run-options.js';
import { ACTIVE_STATUSES, FINAL_STATUSES, RUN_STATUSES } from '../domain/run-status.js';

export const WEB_CONSTANTS_FILE = 'web/js/generated/domain.js';

export function webConstantsSource(): string {
  const list = (values: readonly string[]) => `Object.freeze(${JSON.stringify(values)})`;
  return [
    '// Generated from src/domain by src/shared/web-constants.ts (`npm run gen:web`); do not edit.',
    '// @ts-check',
    '',
    "/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */",
    `export const RUN_STATUSES = ${list(RUN_STATUSES)};`,
    '/** Statuses a run can still leave: it can be cancelled. */',
    "/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */",
    `export const ACTIVE_STATUSES = ${list(ACTIVE_STATUSES)};`,
    "/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */",
    `export const FINAL_STATUSES = ${list(FINAL_STATUSES)};`,
    '/** The order the pages list statuses in: the active ones first. */',
    "/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */",
    `export const STATUS_ORDER = ${list([...ACTIVE_STATUSES, ...FINAL_STATUSES])};`,
    '/** The keys every run needs, whatever its method: what to train, on what, for how long. */',
    `export const RUN_KEYS = ${list(RUN_KEYS)};`,
    "/** The options every method takes (the others are the method's own, per the table of methods). */",
    `export const COMMON_OPTION_KEYS = ${list([...COMMON_OPTION_KEYS])};`,
    '',
  ].join('\n');
}
