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
/** The keys every run needs, whatever its method: what to train, on what, for how long. */
export const RUN_KEYS = Object.freeze(["model","data","iters","epochs"]);
/** The options every method takes (the others are the method's own, per the table of methods). */
export const COMMON_OPTION_KEYS = Object.freeze(["model","data","iters","epochs","batch_size","learning_rate","num_layers","max_seq_length","steps_per_report","steps_per_eval","save_every","val_batches","test","test_batches","grad_checkpoint","gradient_accumulation_steps","train_type","optimizer","seed","load_in_4bits","load_in_6bits","load_in_8bits","load_in_mxfp4","resume_adapter_file","wandb","lm_studio_name","lora_parameters","lr_schedule","optimizer_config","text_feature","chat_feature","prompt_feature","completion_feature","system_feature","chosen_feature","rejected_feature","preference_score_feature","type_feature","answer_feature"]);
