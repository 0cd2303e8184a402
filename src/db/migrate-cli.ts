// `npm run db:migrate`: applies pending migrations to DATA_DIR/mlxq.sqlite and reports what it did.
import { loadConfig } from '../shared/config.js';
import { closeDb, dbFilePath, openDb } from './client.js';
import { migrate } from './migrate.js';

function main(): void {
  const config = loadConfig();
  const file = dbFilePath(config.dataDir);
  const db = openDb(file);
  try {
    const { applied, total } = migrate(db);
    console.log(`${file}: applied ${applied} migration(s), ${total} in total`);
  } finally {
    closeDb(db);
  }
}

try {
  main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
