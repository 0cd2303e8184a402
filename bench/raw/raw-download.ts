// The raw download baseline: node:http piping fs.createReadStream(RAW_FILE) to every GET, nothing else.
import fs from 'node:fs';
import http from 'node:http';

const file = process.env.RAW_FILE!;
const server = http.createServer((_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': fs.statSync(file).size,
  });
  fs.createReadStream(file).pipe(res);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
