// Notices the moment a trainer starts: the stand-in writes MLX_STANDIN_PID_FILE first thing, and an inotify
// watch on its directory (fs.watch) reports the file's creation to this process within the event loop's latency.
import fs from 'node:fs';
import path from 'node:path';

import { nowMs } from './stats.js';

export class StartSignal {
  readonly file: string;
  private readonly watcher: fs.FSWatcher;
  private waiter: ((at: number) => void) | null = null;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, 'trainer-started.pid');
    this.watcher = fs.watch(dir, (_event, name) => {
      if (name !== path.basename(this.file) || !this.waiter || !fs.existsSync(this.file)) return;
      const resolve = this.waiter;
      this.waiter = null;
      resolve(nowMs());
    });
  }

  /** Removes the previous start's file and arms the watch; resolves with the creation time of the next one. */
  arm(timeoutMs = 60_000): Promise<number> {
    fs.rmSync(this.file, { force: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no trainer started (${this.file}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (at) => {
        clearTimeout(timer);
        resolve(at);
      };
    });
  }

  close(): void {
    this.watcher.close();
  }
}
