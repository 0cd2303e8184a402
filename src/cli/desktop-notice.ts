// `watch --notify`: tells the desktop that a run ended (osascript's notification on macOS, a bell and a line elsewhere).
import { execFile } from 'node:child_process';

import type { CliIo } from './cli-io.js';

const quote = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export async function desktopNotice(io: CliIo, title: string, text: string): Promise<void> {
  const command = io.config.notifyCommand;
  if (command === null) {
    // No notification centre to ask: the terminal's bell, and the words on stderr.
    io.err(`\x07[notify] ${title}: ${text}\n`);
    return;
  }
  const script = `display notification ${quote(text)} with title ${quote(title)}`;
  await new Promise<void>((resolve) => {
    execFile(command, ['-e', script], { timeout: 10_000 }, (err) => {
      if (err) io.err(`[notify] ${command} failed (${err.message}); ${title}: ${text}\n`);
      resolve();
    });
  });
}
