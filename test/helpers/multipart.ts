// Builds multipart/form-data bodies by hand, so tests (and the fuzzer) control every byte.
export interface Part {
  name: string;
  filename?: string;
  content: string | Buffer;
}

export const BOUNDARY = '----mlxq-test-boundary-7f3a';

/** How browsers write a name into Content-Disposition: quote, CR and LF percent-escaped. */
export function escapeName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function multipart(
  parts: Part[],
  boundary = BOUNDARY,
): { payload: Buffer; headers: Record<string, string> } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${escapeName(p.name)}"${p.filename === undefined ? '' : `; filename="${escapeName(p.filename)}"`}`;
    const type = p.filename === undefined ? '' : 'Content-Type: application/octet-stream\r\n';
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`),
      Buffer.from(p.content),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}
