/**
 * Sorts a stream of keyed items that may not fit in memory: up to `bufferSize` items are sorted in
 * memory; when there are more, each full buffer is written to a temporary file as a sorted run, and
 * the runs are merged while read back. Memory holds one buffer, then one item per run.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SortOptions<T> {
  compare(a: T, b: T): number;
  /** Items sorted in memory before a run goes to disk. */
  bufferSize: number;
  /** Where the runs go (a fresh folder under it, removed at the end). */
  dir?: string;
}

export interface Sorted<T> extends AsyncIterable<T> {
  /** Sorted runs written to disk (0: it fit in memory). */
  readonly runs: number;
}

/** Reads `items` to the end, then yields them in order. The temporary runs are removed when the iteration ends. */
export async function sortItems<T>(items: AsyncIterable<T>, opts: SortOptions<T>): Promise<Sorted<T>> {
  let buffer: T[] = [];
  let folder: string | undefined;
  const files: string[] = [];
  const spill = async () => {
    folder ??= mkdtempSync(join(opts.dir ?? tmpdir(), 'shopforce-sort-'));
    const file = join(folder, `run-${files.length}.ndjson`);
    buffer.sort(opts.compare);
    await writeLines(file, buffer);
    files.push(file);
    buffer = [];
  };
  try {
    for await (const item of items) {
      buffer.push(item);
      if (buffer.length >= opts.bufferSize) await spill();
    }
    if (files.length > 0 && buffer.length > 0) await spill();
  } catch (err) {
    if (folder) rmSync(folder, { recursive: true, force: true });
    throw err;
  }
  buffer.sort(opts.compare);
  const inMemory = buffer;
  return {
    runs: files.length,
    [Symbol.asyncIterator]: () => (files.length === 0 ? iterate(inMemory) : mergeRuns(files, opts.compare, () => rmSync(folder!, { recursive: true, force: true }))),
  };
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function writeLines(file: string, items: unknown[]): Promise<void> {
  const out = createWriteStream(file);
  for (const item of items) {
    if (!out.write(`${JSON.stringify(item)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** A k-way merge of sorted run files (each read line by line); `cleanup` runs when the merge ends or is abandoned. */
async function* mergeRuns<T>(files: string[], compare: (a: T, b: T) => number, cleanup: () => void): AsyncGenerator<T> {
  const readers = files.map((f) => createInterface({ input: createReadStream(f), crlfDelay: Infinity })[Symbol.asyncIterator]());
  try {
    const heads: Array<T | undefined> = await Promise.all(readers.map(async (r) => {
      const next = await r.next();
      return next.done ? undefined : (JSON.parse(next.value) as T);
    }));
    for (;;) {
      let min = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && (min < 0 || compare(h, heads[min]!) < 0)) min = i;
      }
      if (min < 0) return;
      yield heads[min]!;
      const next = await readers[min]!.next();
      heads[min] = next.done ? undefined : (JSON.parse(next.value) as T);
    }
  } finally {
    await Promise.all(readers.map((r) => r.return?.()));
    cleanup();
  }
}
