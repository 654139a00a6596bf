import { z } from 'zod';
import { DEFAULT_SHOP_ID } from '../tables.ts';

const count = (what: string, max: number) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`)
    .min(0, `${what} must not be negative`).max(max, `${what} must be at most ${max}`);

export const seedOptionsSchema = z.object({
  customers: count('customers', 5_000_000).default(50),
  products: count('products', 1_000_000).default(40),
  warehouses: count('warehouses', 1_000).default(3),
  orders: count('orders', 5_000_000).default(120),
  seed: z.number().int('seed must be a whole number').default(1),
  shopId: z.string().min(1, 'shopId must not be empty').default(DEFAULT_SHOP_ID),
  /** Business customers carry a credit status: a shop on its own; where the org masters it (the story seed), they have none until the org gives it. */
  creditStatus: z.boolean().default(true),
}).refine((o) => o.orders === 0 || (o.customers > 0 && o.products > 0), {
  message: 'orders need at least one customer and one product', path: ['orders'],
});

export type SeedOptions = z.output<typeof seedOptionsSchema>;
export type SeedOptionsInput = z.input<typeof seedOptionsSchema>;

/** Fills defaults and validates; the error names each bad option. */
export function resolveSeedOptions(input: SeedOptionsInput = {}): SeedOptions {
  const parsed = seedOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`bad seed options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
