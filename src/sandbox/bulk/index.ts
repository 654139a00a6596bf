export { registerBulkRoutes, type BulkRoutes } from './routes.ts';
export { MAX_UPLOAD_BYTES } from './ingest-routes.ts';
export { DEFAULT_QUERY_PAGE_SIZE } from './query-routes.ts';
export { makeBulkQuery } from './query-source.ts';
export type { BulkDeps, BulkJobContext, BulkRow, BulkRowResult, BulkQueryResult, IngestOperation, QueryOperation } from './deps.ts';
export { BulkApiError } from './errors.ts';
