/**
 * One `drift customer` check in a process of its own (bench/drift.ts runs one per mode): the process's
 * peak RSS is then the check's alone, not the in-process emulator's or an earlier mode's. Reads
 * {config, sortBufferRecords} as JSON from the file named by argv[2]; prints {report, ms, peakRssMb}.
 */
import { readFileSync } from 'node:fs';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { checkDrift } from '../../src/drift/check.ts';
import { connectSalesforce } from '../../src/salesforce/auth/connection.ts';

const { config, sortBufferRecords } = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { config: ShopforceConfig; sortBufferRecords: number };
const conn = await connectSalesforce(config.salesforce);
const started = Date.now();
const report = await checkDrift(config, 'customer', conn, {
  samples: 5, sortBufferRecords, bulk: { pageSize: config.drift.bulkPageSize, pollIntervalMs: 500, pollTimeoutMs: 600_000 },
});
// maxRSS: the process's peak resident set, in kilobytes
console.log(JSON.stringify({ report, ms: Date.now() - started, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));
