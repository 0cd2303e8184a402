// Reads which reward functions a user's Python file registers, without running it.
import fs from 'node:fs/promises';

const DECORATED =
  /@register_reward_function\(\s*(?:name\s*=\s*)?(?:["']([A-Za-z_]\w*)["'])?[^)]*\)\s*\n\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/g;

/** Names a file registers with @register_reward_function(), by decorator name= or function name. */
export async function registeredRewardFunctions(file: string): Promise<string[]> {
  const source = await fs.readFile(file, 'utf8');
  const names: string[] = [];
  for (const m of source.matchAll(DECORATED)) names.push(m[1] ?? m[2]!);
  return names;
}
