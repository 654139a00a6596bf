/** The entity mappings of a configuration (only the enabled ones). */
import type { ShopforceConfig } from '../config/schema.ts';
import { createCustomerMapping } from './customer.ts';
import type { AnyEntityMapping } from './entity.ts';
import { createOrderMapping } from './order.ts';
import { createProductMapping } from './product.ts';
import { createStockMapping } from './stock.ts';
import type { EntityName } from './types.ts';

export function createEntityMappings(config: ShopforceConfig): Partial<Record<EntityName, AnyEntityMapping>> {
  const e = config.entities;
  const out: Partial<Record<EntityName, AnyEntityMapping>> = {};
  if (e.customer.enabled) out.customer = createCustomerMapping(e.customer, config.shopId);
  if (e.order.enabled) out.order = createOrderMapping(e.order, config.shopId);
  if (e.product.enabled) out.product = createProductMapping(e.product, config.shopId);
  if (e.stock.enabled) out.stock = createStockMapping(e.stock, config.shopId);
  for (const name of ['payment', 'invoice', 'support_ticket', 'campaign_segment'] as const) {
    if (e[name].enabled) throw new Error(`entities.${name}: this flow has a schema but no mapping yet; disable it`);
  }
  return out;
}
