export { parseSoql } from './parser.ts';
export { executeSoql, flattenRecord, type SoqlContext, type SoqlResult, type SoqlRecord } from './execute.ts';
export { SoqlError, type SoqlErrorCode } from './errors.ts';
export type { SoqlQuery } from './ast.ts';
