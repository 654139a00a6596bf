/** entities.stock: stock per SKU and warehouse, owned by both sides, merged by delta. */
import { z } from 'zod';
import { entitySection } from '../config-section.ts';
import { STOCK_KINDS } from './record.ts';

export const stockConfig = entitySection({
  entity: 'stock',
  kinds: STOCK_KINDS,
  deltaMerge: true,
  defaults: {
    shopTables: ['stock_levels'], salesforceObjects: ['Stock_Level__c'],
    externalIds: { Stock_Level__c: 'Stock_Key__c' }, master: 'both', deletePolicy: 'ignore',
  },
  options: {
    windowMs: z.number().int().min(0).max(900_000).default(300_000)
      .describe('Changes of one SKU and warehouse are merged and written once per side per window (ms; 0 = at once, at most 15 minutes).'),
    belowZero: z.enum(['keep', 'clamp']).default('keep')
      .describe('A merged quantity below zero raises an alert and is kept (a backorder), or clamped to zero.'),
  },
});

export type StockConfig = z.output<typeof stockConfig>;
