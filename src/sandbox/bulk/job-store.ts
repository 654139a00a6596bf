import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BulkQueryResult } from './deps.ts';
import type { IngestResults, Job } from './jobs.ts';

/**
 * Bulk jobs kept in memory and written through to `<dataDir>/bulk-jobs/`: `<id>.json` (job),
 * `<id>.upload.<n>.csv` (uploads), `<id>.results.json` (ingest outcomes) and `<id>.rows.json`
 * (query snapshot), so jobs and their results survive an emulator restart.
 */
export class JobStore {
  private readonly dir: string;
  private readonly jobs = new Map<string, Job>();
  private readonly queryCache = new Map<string, BulkQueryResult>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'bulk-jobs');
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir)) {
      if (!/^[A-Za-z0-9]{18}\.json$/.test(name)) continue;
      const job = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as Job;
      this.jobs.set(job.id, job);
    }
  }

  all(): Job[] {
    return [...this.jobs.values()].sort((a, b) => a.createdDate.localeCompare(b.createdDate));
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  save(job: Job): void {
    this.jobs.set(job.id, job);
    this.writeAtomic(`${job.id}.json`, JSON.stringify(job));
  }

  delete(id: string): void {
    this.jobs.delete(id);
    this.queryCache.delete(id);
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(`${id}.`)) rmSync(join(this.dir, name), { force: true });
    }
  }

  addUpload(id: string, index: number, csv: string): void {
    appendFileSync(join(this.dir, `${id}.upload.${index}.csv`), csv);
  }

  uploads(id: string, count: number): string[] {
    const texts: string[] = [];
    for (let i = 0; i < count; i++) texts.push(readFileSync(join(this.dir, `${id}.upload.${i}.csv`), 'utf8'));
    return texts;
  }

  saveResults(id: string, results: IngestResults): void {
    this.writeAtomic(`${id}.results.json`, JSON.stringify(results));
  }

  results(id: string): IngestResults | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${id}.results.json`), 'utf8')) as IngestResults;
    } catch {
      return undefined;
    }
  }

  saveQueryRows(id: string, result: BulkQueryResult): void {
    this.queryCache.set(id, result);
    this.writeAtomic(`${id}.rows.json`, JSON.stringify(result));
  }

  queryRows(id: string): BulkQueryResult | undefined {
    const cached = this.queryCache.get(id);
    if (cached) return cached;
    try {
      const result = JSON.parse(readFileSync(join(this.dir, `${id}.rows.json`), 'utf8')) as BulkQueryResult;
      this.queryCache.set(id, result);
      return result;
    } catch {
      return undefined;
    }
  }

  private writeAtomic(name: string, text: string): void {
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(this.dir, name));
  }
}
