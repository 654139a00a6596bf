import type { RestHandler } from './context.ts';

const VERSIONS = ['52.0', '53.0', '54.0', '55.0', '56.0', '57.0', '58.0', '59.0', '60.0', '61.0', '62.0', '63.0', '64.0'];

/** GET /services/data: the API versions this org serves. */
export function versionList(): Array<{ label: string; url: string; version: string }> {
  return VERSIONS.map((v) => ({ label: `v${v}`, url: `/services/data/v${v}`, version: v }));
}

/** GET /services/data/vXX.X */
export const resourceList: RestHandler = (ctx) => {
  const base = `/services/data/v${ctx.version}`;
  return {
    status: 200,
    body: {
      sobjects: `${base}/sobjects`, query: `${base}/query`, queryAll: `${base}/queryAll`, composite: `${base}/composite`,
      limits: `${base}/limits`, jobs: `${base}/jobs`, 'jobs/ingest': `${base}/jobs/ingest`, 'jobs/query': `${base}/jobs/query`,
    },
  };
};

/** GET /limits */
export const limits: RestHandler = (ctx) => {
  const u = ctx.deps.quota.usage();
  return {
    status: 200,
    body: {
      DailyApiRequests: { Max: u.max, Remaining: u.remaining },
      DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
      DailyBulkV2QueryJobs: { Max: 10000, Remaining: 10000 },
      DailyBulkV2QueryFileStorageMB: { Max: 976562, Remaining: 976562 },
      DataStorageMB: { Max: 1024, Remaining: 1024 },
      FileStorageMB: { Max: 1024, Remaining: 1024 },
      ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
      HourlyPublishedStandardVolumePlatformEvents: { Max: 100000, Remaining: 100000 },
      DailyDeliveredPlatformEvents: { Max: 50000, Remaining: 50000 },
    },
  };
};
