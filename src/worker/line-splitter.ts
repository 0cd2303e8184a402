// Splits a byte stream into lines on \n, \r\n and bare \r (tqdm redraws its bar with \r), decoding UTF-8 across chunks.
import { StringDecoder } from 'node:string_decoder';

/** Lines longer than this are cut, so one endless line cannot exhaust memory. */
const MAX_LINE = 64 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private lastWasCR = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 10 && this.lastWasCR && i === start && this.partial === '') {
        // The \n of a \r\n pair: the line was already emitted at the \r.
        start = i + 1;
        this.lastWasCR = false;
        continue;
      }
      this.emit(this.partial + text.slice(start, i));
      this.partial = '';
      start = i + 1;
      this.lastWasCR = c === 13;
    }
    if (start < text.length) {
      this.lastWasCR = false;
      this.partial += text.slice(start);
      if (this.partial.length > MAX_LINE) {
        this.emit(this.partial.slice(0, MAX_LINE));
        this.partial = '';
      }
    }
  }

  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.emit(rest);
  }

  private emit(line: string): void {
    this.onLine(line);
  }
}
