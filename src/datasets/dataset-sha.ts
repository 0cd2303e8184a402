// A dataset's content address, computed the same way where it is stored (upload) and where it is fetched (worker).
import { createHash } from 'node:crypto';

/**
 * The dataset's address: SHA-256 over the lines `sha256sum` prints for its files in name order, so
 * `sha256sum test.jsonl train.jsonl valid.jsonl | sha256sum` reproduces it. Independent of upload order.
 */
export function datasetSha(files: readonly { file: string; sha256: string }[]): string {
  const listing = [...files]
    .sort((a, b) => (a.file < b.file ? -1 : 1))
    .map((f) => `${f.sha256}  ${f.file}\n`)
    .join('');
  return createHash('sha256').update(listing).digest('hex');
}
