// How a remote worker's spooled reports travel: one report alone goes to its own route; consecutive log chunks and
// metric batches of one run go together in one call (POST /v1/worker/runs/:id/reports), applied in one transaction.
// Either way the bodies go out as the spool holds them (JSON text), never parsed and serialised again.
import type { ControlPlaneClient } from './control-plane-client.js';
import type { SpooledReport, SpoolHeader } from './spool-file.js';

/** `<run path>/logs` and `<run path>/metrics` reports of a run go together; the key is the run's path. */
const BATCHED = /^(\/v1\/worker\/runs\/[^/?]+)\/(logs|metrics)$/;

export function reportBatchKey(report: SpoolHeader): string | null {
  if (report.method !== 'POST') return null;
  return BATCHED.exec(report.path)?.[1] ?? null;
}

const OPEN = Buffer.from('{"reports":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');
const item = (kind: string) => Buffer.from(`{"kind":"${kind}","body":`);
const ITEM = { logs: item('logs'), metrics: item('metrics') };
const ITEM_END = Buffer.from('}');

/** The spool's `send`: the reports (one, or several with the same batch key) in one call. */
export function spoolSender(client: ControlPlaneClient): (reports: SpooledReport[]) => Promise<unknown> {
  return (reports) => {
    const first = reports[0]!;
    if (reports.length === 1) return client.jsonText(first.method, first.path, first.body);
    const key = reportBatchKey(first)!;
    const parts: Buffer[] = [OPEN];
    reports.forEach((r, i) => {
      const kind = r.path.endsWith('/logs') ? 'logs' : 'metrics';
      parts.push(...(i === 0 ? [] : [COMMA]), ITEM[kind], r.body, ITEM_END);
    });
    parts.push(CLOSE);
    return client.jsonText('POST', `${key}/reports`, Buffer.concat(parts));
  };
}
