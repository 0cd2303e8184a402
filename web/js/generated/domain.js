// Generated from src/domain by src/shared/web-constants.ts (`npm run gen:web`); do not edit.
// @ts-check

/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */
export const RUN_STATUSES = Object.freeze(["queued","running","succeeded","failed","cancelled","interrupted"]);
/** Statuses a run can still leave: it can be cancelled. */
/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */
export const ACTIVE_STATUSES = Object.freeze(["queued","running","interrupted"]);
/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */
export const FINAL_STATUSES = Object.freeze(["succeeded","failed","cancelled"]);
/** The order the pages list statuses in: the active ones first. */
/** @type {readonly import('../../../src/domain/run-status.js').RunStatus[]} */
export const STATUS_ORDER = Object.freeze(["queued","running","interrupted","succeeded","failed","cancelled"]);
