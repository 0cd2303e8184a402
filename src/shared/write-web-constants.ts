// `npm run gen:web`: writes the pages' generated domain module (see web-constants.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { WEB_CONSTANTS_FILE, webConstantsSource } from './web-constants.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
fs.writeFileSync(path.join(root, WEB_CONSTANTS_FILE), webConstantsSource());
process.stdout.write(`wrote ${WEB_CONSTANTS_FILE}\n`);
