// Serves the browser dashboard: the pages under /ui, their ES modules and CSS from web/, and uPlot from node_modules.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

import type { AppDeps } from '../app.js';

/** The page shell each /ui route answers with; the page's module reads the rest from the JSON API. */
const PAGES = {
  '/ui': 'index.html',
  '/ui/': 'index.html',
  '/ui/runs/:id': 'run.html',
  '/ui/sweeps/:id': 'sweep.html',
  '/ui/submit': 'submit.html',
  '/ui/compare': 'compare.html',
  '/ui/workers': 'workers.html',
} as const;

const UPLOT_FILES = new Set(['/uPlot.esm.js', '/uPlot.min.css']);

/**
 * Pages fetch only from this origin, and log lines and run names are arbitrary text: the pages write them as
 * text nodes, and this policy refuses inline scripts should one ever slip through. uPlot sets element styles.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** web/ next to src/ (tsx) or next to dist/ (a compiled build): the nearest ancestor that holds web/index.html. */
export function findWebRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'web');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No web/index.html above ${from}: the dashboard pages are missing`);
    dir = parent;
  }
}

function uplotDist(): string {
  return path.dirname(createRequire(import.meta.url).resolve('uplot'));
}

function sendPage(reply: FastifyReply, file: string): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-cache')
    .sendFile(file);
}

export const pageRoutes: FastifyPluginAsync<AppDeps> = async (app) => {
  const webRoot = findWebRoot();
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: '/ui/static/',
    index: false,
    cacheControl: false,
  });
  await app.register(fastifyStatic, {
    root: uplotDist(),
    prefix: '/ui/vendor/uplot/',
    decorateReply: false,
    index: false,
    allowedPath: (pathName) => UPLOT_FILES.has(pathName),
  });
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/ui/static/'))
      reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
  });

  // The root and the bare collection paths go to the run list.
  for (const url of ['/', '/ui/runs', '/ui/runs/', '/ui/sweeps', '/ui/sweeps/']) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => reply.redirect('/ui'));
  }
  for (const [url, file] of Object.entries(PAGES)) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => sendPage(reply, file));
  }
};
