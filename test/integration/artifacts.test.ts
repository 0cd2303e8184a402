// Artifacts of a succeeded run over HTTP: listed with size and sha256, downloaded as a file or a folder tar.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { extract } from 'tar';
import { describe, expect, it } from 'vitest';

import { sha256, trainedRun } from '../helpers/follow-up.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv();

interface ArtifactBody {
  id: string;
  kind: string;
  name: string;
  bytes: number;
  sha256: string;
  isDir: boolean;
  verified: boolean | null;
  downloadUrl: string;
}

describe('artifacts of a succeeded run', () => {
  it('lists the adapter folder and checkpoints; each downloads with the recorded size and sha256', async () => {
    await env.startWorker();
    const run = await trainedRun(env);
    const list = await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` });
    expect(list.statusCode, list.body).toBe(200);
    const items = list.json<{ items: ArtifactBody[] }>().items;
    expect(items.map((a) => a.kind).sort()).toEqual(['adapter', 'checkpoint', 'checkpoint']);
    // Asking again records nothing twice.
    expect(
      (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` })).json<{
        items: unknown[];
      }>().items,
    ).toHaveLength(3);

    const checkpoint = items.find((a) => a.kind === 'checkpoint')!;
    const file = await env.app.inject({ method: 'GET', url: checkpoint.downloadUrl });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-disposition']).toBe(`attachment; filename="${checkpoint.name}"`);
    expect(file.rawPayload.length).toBe(checkpoint.bytes);
    expect(sha256(file.rawPayload)).toBe(checkpoint.sha256);

    const folder = items.find((a) => a.kind === 'adapter')!;
    expect(folder).toMatchObject({ isDir: true, name: 'adapters.tar', verified: null });
    const tar = await env.app.inject({ method: 'GET', url: folder.downloadUrl });
    expect(tar.headers['content-type']).toBe('application/x-tar');
    expect(tar.rawPayload.length).toBe(folder.bytes);
    expect(sha256(tar.rawPayload)).toBe(folder.sha256);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-untar-'));
    try {
      await pipeline(Readable.from([tar.rawPayload]), extract({ cwd: out }));
      const adapterDir = path.join(run.runDir as string, 'adapters');
      for (const name of ['adapter_config.json', 'adapters.safetensors']) {
        expect(fs.readFileSync(path.join(out, 'adapters', name))).toEqual(
          fs.readFileSync(path.join(adapterDir, name)),
        );
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('answers 404 for an unknown artifact or run, and for a file deleted since', async () => {
    expect((await env.app.inject({ method: 'GET', url: '/v1/artifacts/art_nope/download' })).statusCode).toBe(
      404,
    );
    expect((await env.app.inject({ method: 'GET', url: '/v1/runs/run_nope/artifacts' })).statusCode).toBe(
      404,
    );
    await env.startWorker();
    const run = await trainedRun(env);
    const items = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` })).json<{
      items: (ArtifactBody & { path: string })[];
    }>().items;
    const checkpoint = items.find((a) => a.kind === 'checkpoint')!;
    fs.rmSync(checkpoint.path);
    const gone = await env.app.inject({ method: 'GET', url: checkpoint.downloadUrl });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ error: 'not_found' });
  });
});
