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
    // indexOf for each terminator instead of a loop over every character (bench: log ingestion).
    let nextLf = text.indexOf('\n');
    let nextCr = text.indexOf('\r');
    while (nextLf !== -1 || nextCr !== -1) {
      const isLf = nextCr === -1 || (nextLf !== -1 && nextLf < nextCr);
      const i = isLf ? nextLf : nextCr;
      const c = isLf ? 10 : 13;
      if (isLf) nextLf = text.indexOf('\n', i + 1);
      else nextCr = text.indexOf('\r', i + 1);
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
