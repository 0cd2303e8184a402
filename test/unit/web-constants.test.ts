// The pages' generated domain module is what src/domain says today (regenerate with `npm run gen:web`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ACTIVE_STATUSES, FINAL_STATUSES, RUN_STATUSES } from '../../src/domain/run-status.js';
import { WEB_CONSTANTS_FILE, webConstantsSource } from '../../src/shared/web-constants.js';

const file = path.join(fileURLToPath(new URL('../../', import.meta.url)), WEB_CONSTANTS_FILE);

describe('web/js/generated/domain.js', () => {
  it('is the generator output for the current domain (else run npm run gen:web)', () => {
    expect(fs.readFileSync(file, 'utf8')).toBe(webConstantsSource());
  });

  it('exports the run statuses the domain defines, active ones first in STATUS_ORDER', async () => {
    const web = (await import(file)) as Record<string, readonly string[]>;
    expect(web.RUN_STATUSES).toEqual(RUN_STATUSES);
    expect(web.ACTIVE_STATUSES).toEqual(ACTIVE_STATUSES);
    expect(web.FINAL_STATUSES).toEqual(FINAL_STATUSES);
    expect([...web.STATUS_ORDER!].sort()).toEqual([...RUN_STATUSES].sort());
  });
});
