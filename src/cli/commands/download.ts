// `download <artifact-id>`: streams an artifact to a file, checking its sha256 against the recorded one.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

import { apiError } from '../api-client.js';
import { CliError, EXIT } from '../cli-io.js';
import { type CommandSpec, str } from './command-spec.js';

export const downloadCommand: CommandSpec = {
  name: 'download',
  usage: '<artifact-id> [-o file]',
  summary: 'download an artifact (a folder comes as a .tar) and check its sha256',
  options: { output: { type: 'string', short: 'o' } },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [id], v) {
    const res = await api.sendOk('GET', `/v1/artifacts/${encodeURIComponent(id!)}/download`, {
      headers: { accept: '*/*' },
    });
    if (!res.body) throw apiError(res.status, {});
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? id!;
    const target = path.resolve(io.cwd, str(v.output) ?? name);
    const expected = res.headers.get('x-artifact-sha256');
    const total = Number(res.headers.get('content-length') ?? 0);
    const hash = createHash('sha256');
    let bytes = 0;
    let lastShown = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        if (io.isTty && Date.now() - lastShown > 200) {
          lastShown = Date.now();
          io.err(
            `\r${(bytes / 1e6).toFixed(1)} MB${total ? ` of ${(total / 1e6).toFixed(1)} MB` : ''}\x1b[K`,
          );
        }
        done(null, chunk);
      },
    });
    const tmp = `${target}.part`;
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      meter,
      fs.createWriteStream(tmp),
    );
    if (io.isTty) io.err('\n');
    const sha = hash.digest('hex');
    if (expected && sha !== expected) {
      fs.rmSync(tmp, { force: true });
      throw new CliError(
        `downloaded ${bytes} bytes whose sha256 ${sha} is not the recorded ${expected}; nothing kept`,
        EXIT.runFailed,
      );
    }
    fs.renameSync(tmp, target);
    io.out(`${target}\n${bytes} bytes, sha256 ${sha}${expected ? ' (matches the recorded one)' : ''}\n`);
    return EXIT.ok;
  },
};
