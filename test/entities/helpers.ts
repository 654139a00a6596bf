import { entitiesSchema } from '../../src/entities/index.ts';
import type { WriteContext } from '../../src/entities/commands.ts';
import { moneyToNumber } from '../../src/entities/money.ts';
import type { SalesforceWrite } from '../../src/entities/types.ts';

export const entities = entitiesSchema.parse({});

export const ctx: WriteContext = {
  shopId: 'shop-1', entity: 'test', key: 'shop-1|x', sourcePosition: 'lsn:100', transactionId: '777', eventTime: Date.UTC(2026, 10, 27),
};

/** What Salesforce would hold after the upsert: the written fields, decimals as JSON numbers, plus the external id. */
export function asStored(w: SalesforceWrite): Record<string, unknown> {
  const image: Record<string, unknown> = { ...w.fields, [w.externalIdField]: w.externalId };
  for (const f of w.decimalFields) if (typeof image[f] === 'string') image[f] = moneyToNumber(image[f] as string);
  return JSON.parse(JSON.stringify(image));
}
