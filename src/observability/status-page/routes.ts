import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { FastifyPluginAsync } from 'fastify';
import type { StatusSnapshot } from './types.ts';

const require = createRequire(import.meta.url);
const page = (file: string) => new URL(`./page/${file}`, import.meta.url);

/** The page's files by the name it asks for them: its own, and uPlot's from node_modules. */
const ASSETS: Record<string, { path: URL | string; type: string }> = {
  'status.js': { path: page('status.js'), type: 'text/javascript; charset=utf-8' },
  'status.css': { path: page('status.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { path: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/**
 * The status page's routes: `/status` (the page) and `/status/assets/<file>` hold no data and
 * need no token; `/status/snapshot.json`, which the page polls, does when the server has one.
 */
export function statusPageRoutes(snapshot: () => Promise<StatusSnapshot>): FastifyPluginAsync {
  return async (app) => {
    const html = await readFile(page('index.html'));
    const files = new Map(await Promise.all(Object.entries(ASSETS).map(async ([name, a]) => [name, { body: await readFile(a.path), type: a.type }] as const)));
    app.get('/status', { config: { public: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html));
    app.get<{ Params: { file: string } }>('/status/assets/:file', { config: { public: true } }, async (req, reply) => {
      const file = files.get(req.params.file);
      if (!file) return reply.code(404).send({ error: `no asset ${req.params.file}` });
      return reply.type(file.type).header('cache-control', 'no-cache').send(file.body);
    });
    app.get('/status/snapshot.json', async (_req, reply) => reply.header('cache-control', 'no-store').send(await snapshot()));
  };
}
