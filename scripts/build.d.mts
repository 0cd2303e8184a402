// Types of scripts/build.mjs for the TypeScript that imports it (the bench, the test helpers).
export const ROOT: string;
export const WORKER_DIST: string;
export function workerBuild(): { entry: string; stale: boolean };
export function buildWorker(dist?: string): Promise<void>;
export function npmRunWorker(): { nodeArgs: string[]; file: string; args: string[] };
