// The upload tests' shared set-up: a test_data file as a multipart part, POST /v1/datasets, and the store's entries.
import fs from 'node:fs';
import path from 'node:path';

import { multipart, type Part } from './multipart.js';
import { TEST_DATA, type TestEnv } from './test-env.js';

/** test_data/<dir>/<split>.jsonl as the file part of that name. */
export const dataFile = (split: string, dir = 'sft-chat'): Part => ({
  name: `${split}.jsonl`,
  filename: `${split}.jsonl`,
  content: fs.readFileSync(path.join(TEST_DATA, dir, `${split}.jsonl`)),
});

/** Uploads to `env` (or to another env `e`) and reads what its dataset store holds. */
export function datasetUploads(env: TestEnv) {
  return {
    upload: (parts: Part[], e: TestEnv = env) =>
      e.app.inject({ method: 'POST', url: '/v1/datasets', ...multipart(parts) }),
    /** The stored datasets and what is left in the store's .incoming folder (nothing, after any refusal). */
    storeEntries: (e: TestEnv = env): { datasets: string[]; incoming: string[] } => {
      const dir = path.join(e.dataDir, 'datasets');
      const list = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p) : []);
      return {
        datasets: list(dir).filter((n) => n !== '.incoming'),
        incoming: list(path.join(dir, '.incoming')),
      };
    },
  };
}
