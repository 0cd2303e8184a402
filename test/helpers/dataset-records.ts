// Records the dataset-format tests share (a chat, an old-style GRPO record) and the error text of a check result.

export const chat = [
  { role: 'user', content: 'hi' },
  { role: 'assistant', content: 'hello' },
];
export const OLD_GRPO = { problem: 'What is 2+2?', reasoning_steps: ['2+2=4'], solution: '4' };

export function errorOf(result: { format: string } | { error: string }): string {
  if (!('error' in result)) throw new Error(`expected an error, got format ${result.format}`);
  return result.error;
}
