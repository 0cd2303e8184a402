#!/usr/bin/env node
// Launcher for the mlxq CLI: registers tsx so the TypeScript sources run as they are, then starts src/cli/main.ts;
// `mlxq worker` starts a worker instead (src/worker/main.ts: a remote one with SERVER_URL and WORKER_TOKEN).
import { register } from 'tsx/esm/api';

register();
const entry = process.argv[2] === 'worker' ? '../src/worker/main.ts' : '../src/cli/main.ts';
await import(new URL(entry, import.meta.url).href);
