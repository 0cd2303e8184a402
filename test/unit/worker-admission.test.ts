import { describe, expect, it } from 'vitest';

import {
  placementSchema,
  queueNameFor,
  requirementOf,
  satisfies,
  SHARED_RUNS_QUEUE,
} from '../../src/domain/placement.js';
import {
  type AdmissionSubject,
  admit,
  placementWaiting,
  reasonsAgainst,
} from '../../src/domain/worker-admission.js';
import { markLost, type WorkerEntry } from '../../src/domain/worker-entry.js';

const GB = 1e9;
function worker(name: string, gb: number, extra: Partial<WorkerEntry> = {}): WorkerEntry {
  return {
    name,
    host: name,
    pid: 1,
    versions: { python: null, mlx: null, mlxLm: null, mlxLmLora: null },
    totalMemoryBytes: gb * GB,
    state: 'idle',
    startedAt: 0,
    lastSeen: 1000,
    ...extra,
  };
}
const fleet = [
  worker('mini', 16),
  worker('pro', 64, { labels: ['laptop'] }),
  worker('studio', 192, { labels: ['studio', 'ultra'] }),
];
const subject = (
  placement: AdmissionSubject['request']['placement'],
  estimateGb: number | null = null,
): AdmissionSubject => ({ request: { placement }, estimateGb, margin: 1.2 });

describe('per-worker checks', () => {
  it.each([
    ['no placement, small run', subject(undefined, 5), ['mini', 'pro', 'studio']],
    [
      'a 100 GB need (estimate 84 × 1.2) fits only the 192 GB Mac (144 GB usable)',
      subject(undefined, 84),
      ['studio'],
    ],
    ['min_memory_gb 100 takes only the 192 GB Mac', subject({ min_memory_gb: 100 }), ['studio']],
    ['pinned to pro', subject({ worker: 'pro' }), ['pro']],
    ['labels all required', subject({ labels: ['studio', 'ultra'] }), ['studio']],
    ['a label nobody has', subject({ labels: ['gpu'] }), []],
    ['pinned to pro but too big for it', subject({ worker: 'pro' }, 84), []],
  ] as const)('%s', (_name, s, takers) => {
    expect(admit(s, fleet).takers.map((w) => w.name)).toEqual(takers);
  });

  it('names every reason of a worker', () => {
    expect(
      reasonsAgainst(
        subject({ worker: 'studio', labels: ['gpu'], min_memory_gb: 32 }, 20),
        worker('mini', 16),
      ),
    ).toEqual([
      'not the pinned worker (placement.worker is studio)',
      'lacks label gpu (has none)',
      'has 16 GB of memory, placement.min_memory_gb asks for ≥ 32 GB',
      'out of memory: the run needs about 20 GB × margin 1.2 = 24 GB, it can use 10.67 GB (of 16 GB)',
    ]);
  });

  it('memoryOnly when every live worker refuses for memory alone; lost and unusable workers are listed with their state', () => {
    const entries = [
      ...fleet.slice(0, 2),
      worker('gone', 512, { state: 'unusable', reason: 'mlx-lm-lora not installed' }),
    ];
    const a = admit(subject(undefined, 84), entries);
    expect(a).toMatchObject({ takers: [], judged: true, memoryOnly: true });
    expect(a.refusals.map((r) => r.worker)).toEqual(['mini', 'pro', 'gone']);
    expect(a.refusals[2]!.reasons).toEqual(['unusable: mlx-lm-lora not installed']);
    expect(admit(subject({ labels: ['gpu'] }, 84), entries).memoryOnly).toBe(false);
    expect(admit(subject(undefined, 5), []).judged).toBe(false);
  });

  it('a worker silent past WORKER_LOST_S is lost, and lost workers take nothing', () => {
    const [fresh, silent] = markLost(
      [
        worker('a', 64, { lastSeen: 95_000 }),
        worker('b', 64, { lastSeen: 1_000, state: 'training', runId: 'run_x' }),
      ],
      100_000,
      90_000,
    );
    expect(fresh!.state).toBe('idle');
    expect(silent).toMatchObject({ state: 'lost', reason: 'silent for 99 s (last seen training run_x)' });
    expect(admit(subject(undefined, 1), [silent!]).judged).toBe(false);
  });
});

describe('routing', () => {
  it('unconstrained runs share one queue; each distinct requirement has its own, met only by the workers that offer it', () => {
    expect(queueNameFor(requirementOf(undefined, null, 1.2))).toBe(SHARED_RUNS_QUEUE);
    expect(queueNameFor(requirementOf(undefined, 0.5, 1.2))).toBe(SHARED_RUNS_QUEUE);
    const big = requirementOf(undefined, 84, 1.2);
    expect(big).toEqual({ minUsableGb: 100 });
    expect(queueNameFor(big)).toMatch(/^runs-u100-[0-9a-f]{8}$/);
    expect(fleet.filter((w) => satisfies(big, w)).map((w) => w.name)).toEqual(['studio']);
    const pinned = requirementOf({ worker: 'host:123' }, null, 1.2);
    expect(queueNameFor(pinned)).toMatch(/^runs-w\.host_123-[0-9a-f]{8}$/);
    expect(queueNameFor(pinned)).not.toBe(queueNameFor(requirementOf({ worker: 'host_123' }, null, 1.2)));
    expect(queueNameFor(requirementOf({ labels: ['b', 'a'] }, null, 1.2))).toBe(
      queueNameFor(requirementOf({ labels: ['a', 'b', 'a'] }, null, 1.2)),
    );
  });

  it('a waiting run says what it waits for', () => {
    const busy = fleet.map((w) =>
      w.name === 'studio' ? { ...w, state: 'training' as const, runId: 'run_1' } : w,
    );
    const s = subject({ min_memory_gb: 100 });
    const r = requirementOf(s.request.placement, null, 1.2);
    expect(placementWaiting(s, r, busy)).toBe(
      'waiting for a worker with ≥ 100 GB of memory: studio busy with run_1',
    );
    expect(placementWaiting(s, r, fleet)).toBeNull();
    expect(placementWaiting(s, r, fleet.slice(0, 2))).toBe(
      'waiting for a worker with ≥ 100 GB of memory: no live worker can take it now; mini: has 16 GB of memory, placement.min_memory_gb asks for ≥ 100 GB | pro: has 64 GB of memory, placement.min_memory_gb asks for ≥ 100 GB',
    );
  });

  it('placement is validated field by field', () => {
    expect(placementSchema.safeParse({ worker: 'a', min_memory_gb: 64, labels: ['x'] }).success).toBe(true);
    expect(placementSchema.safeParse({ min_memory_gb: -1 }).success).toBe(false);
    expect(placementSchema.safeParse({ labels: ['a b'] }).success).toBe(false);
    expect(placementSchema.safeParse({ gpu: 1 }).success).toBe(false);
  });
});
