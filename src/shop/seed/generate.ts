import { base, en, Faker } from '@faker-js/faker';
import type { SyncedTable } from '../tables.ts';
import { centsToDecimal, percentOf } from './money.ts';
import type { SeedOptions } from './options.ts';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;
export type SeedData = Record<SyncedTable, Row[]>;

/** Every generated date lies in the year before this instant, so rows do not depend on "now". */
export const REFERENCE_DATE = new Date('2026-01-01T00:00:00Z');
const DAY_MS = 86_400_000;
const CURRENCY = 'EUR';
const VAT_PERCENT = 20;

const WAREHOUSE_SITES: Array<[string, string, string]> = [
  ['BER', 'Berlin', 'DE'], ['LYS', 'Lyon', 'FR'], ['RTM', 'Rotterdam', 'NL'], ['MIL', 'Milan', 'IT'],
  ['MAD', 'Madrid', 'ES'], ['WAW', 'Warsaw', 'PL'], ['VIE', 'Vienna', 'AT'], ['PRG', 'Prague', 'CZ'],
];
const SEGMENTS: Array<{ code: string; name: string; description: string; share: number }> = [
  { code: 'VIP', name: 'VIP customers', description: 'Top spenders, early access to launches', share: 0.08 },
  { code: 'NEWSLETTER', name: 'Newsletter', description: 'Opted in to the weekly newsletter', share: 0.4 },
  { code: 'WINBACK', name: 'Win-back', description: 'No order in the last six months', share: 0.15 },
  { code: 'BLACKFRIDAY', name: 'Black Friday 2025', description: 'Campaign audience for the November sale', share: 0.2 },
];
const ORDER_STATUSES: Array<{ weight: number; value: string }> = [
  { weight: 10, value: 'pending' }, { weight: 20, value: 'paid' }, { weight: 10, value: 'fulfilled' },
  { weight: 20, value: 'shipped' }, { weight: 30, value: 'delivered' }, { weight: 7, value: 'cancelled' },
  { weight: 3, value: 'refunded' },
];
const PROVIDERS = [
  { provider: 'stripe', prefix: 'pi', method: 'card' }, { provider: 'adyen', prefix: 'psp', method: 'card' },
  { provider: 'paypal', prefix: 'PAY', method: 'paypal' }, { provider: 'klarna', prefix: 'kl', method: 'invoice' },
] as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const customerNumber = (i: number) => `C-${pad(i + 1, 7)}`;
export const productSku = (i: number) => `SKU-${pad(i + 1, 6)}`;
export const orderNumber = (i: number) => `SO-${pad(i + 1, 8)}`;
export function warehouseCode(i: number): string {
  const site = WAREHOUSE_SITES[i];
  return site ? `WH-${site[0]}` : `WH-${pad(i + 1, 4)}`;
}

/** One independently seeded faker per table: a table's rows depend only on the seed and its own count. */
function fakerFor(seed: number, stream: number): Faker {
  const f = new Faker({ locale: [en, base] });
  f.seed([seed, stream]);
  f.setDefaultRefDate(REFERENCE_DATE);
  return f;
}

const iso = (ms: number) => new Date(ms).toISOString();
const slug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '');

/** Deterministic shop data: the same options always give the same rows. Pure (no database). */
export function generateSeedData(o: SeedOptions): SeedData {
  const shop = o.shopId;
  const data = {} as SeedData;
  const start = REFERENCE_DATE.getTime();

  // warehouses
  data.warehouses = Array.from({ length: o.warehouses }, (_, i) => {
    const site = WAREHOUSE_SITES[i];
    const at = iso(start - 720 * DAY_MS + i * DAY_MS);
    return {
      shop_id: shop, warehouse_code: warehouseCode(i),
      name: site ? `${site[1]} fulfilment centre` : `Regional warehouse ${i + 1}`,
      city: site ? site[1] : null, country: site ? site[2] : 'DE', active: true, created_at: at, updated_at: at,
    };
  });

  // products + stock per warehouse
  let f = fakerFor(o.seed, 1);
  const productPrices: number[] = [];
  const productNames: string[] = [];
  data.products = [];
  data.stock_levels = [];
  for (let i = 0; i < o.products; i++) {
    const price = f.number.int({ min: 199, max: 39_999 });
    const name = f.commerce.productName();
    productPrices.push(price);
    productNames.push(name);
    const at = iso(f.date.past({ years: 2 }).getTime());
    data.products.push({
      shop_id: shop, sku: productSku(i), name, description: f.commerce.productDescription(),
      price: centsToDecimal(price), currency: CURRENCY, active: f.number.float() >= 0.05,
      created_at: at, updated_at: at,
    });
    for (let w = 0; w < o.warehouses; w++) {
      data.stock_levels.push({
        shop_id: shop, sku: productSku(i), warehouse_code: warehouseCode(w),
        quantity: f.number.int({ min: 0, max: 500 }), reserved: f.number.int({ min: 0, max: 10 }),
        created_at: at, updated_at: at,
      });
    }
  }

  // customers + addresses
  f = fakerFor(o.seed, 2);
  data.customers = [];
  data.addresses = [];
  const domains = ['example.com', 'example.org', 'example.net'];
  for (let i = 0; i < o.customers; i++) {
    const first = f.person.firstName();
    const last = f.person.lastName();
    const number = customerNumber(i);
    const at = iso(f.date.past({ years: 2 }).getTime());
    const business = f.number.float() < 0.2;
    data.customers.push({
      shop_id: shop, customer_number: number,
      email: `${slug(first) || 'customer'}.${slug(last) || 'x'}.${i + 1}@${f.helpers.arrayElement(domains)}`,
      first_name: first, last_name: last, phone: f.phone.number({ style: 'international' }),
      company_name: business ? f.company.name() : null,
      status: f.helpers.weightedArrayElement([{ weight: 95, value: 'active' }, { weight: 4, value: 'inactive' }, { weight: 1, value: 'blocked' }]),
      credit_status: business ? f.helpers.arrayElement(['good', 'good', 'review', 'hold']) : null,
      marketing_opt_in: f.datatype.boolean(), created_at: at, updated_at: at,
    });
    // drawn either way, so the rest of the data stays the same for a seed
    if (!o.creditStatus) data.customers.at(-1)!.credit_status = null;
    const country = f.helpers.arrayElement(['DE', 'FR', 'NL', 'IT', 'ES', 'AT', 'BE', 'PL']);
    const billing = {
      line1: f.location.streetAddress(), line2: f.number.float() < 0.15 ? f.location.secondaryAddress() : null,
      city: f.location.city(), region: f.location.state(), postal_code: f.location.zipCode(), country,
    };
    data.addresses.push({ shop_id: shop, customer_number: number, address_type: 'billing', label: 'default', is_default: true, ...billing, created_at: at, updated_at: at });
    const shipping = f.number.float() < 0.5 ? billing : {
      line1: f.location.streetAddress(), line2: null, city: f.location.city(), region: f.location.state(),
      postal_code: f.location.zipCode(), country,
    };
    data.addresses.push({ shop_id: shop, customer_number: number, address_type: 'shipping', label: 'default', is_default: true, ...shipping, created_at: at, updated_at: at });
  }

  // segments + members
  f = fakerFor(o.seed, 3);
  data.customer_segments = SEGMENTS.map((s, i) => {
    const at = iso(start - (400 - i * 30) * DAY_MS);
    return {
      shop_id: shop, segment_code: s.code, name: s.name, description: s.description, active: true,
      starts_on: at.slice(0, 10), ends_on: null, created_at: at, updated_at: at,
    };
  });
  data.segment_members = [];
  for (let i = 0; i < o.customers; i++) {
    for (const s of SEGMENTS) {
      if (f.number.float() >= s.share) continue;
      const at = iso(f.date.past({ years: 1 }).getTime());
      data.segment_members.push({
        shop_id: shop, segment_code: s.code, customer_number: customerNumber(i),
        member_status: f.helpers.weightedArrayElement([{ weight: 80, value: 'member' }, { weight: 10, value: 'sent' }, { weight: 8, value: 'responded' }, { weight: 2, value: 'opted_out' }]),
        joined_at: at, created_at: at, updated_at: at,
      });
    }
  }

  // orders + lines + payments + invoices
  f = fakerFor(o.seed, 4);
  data.orders = [];
  data.order_lines = [];
  data.payments = [];
  data.invoices = [];
  let paymentSeq = 0;
  for (let i = 0; i < o.orders; i++) {
    const number = orderNumber(i);
    const customer = customerNumber(f.number.int({ min: 0, max: o.customers - 1 }));
    const status = f.helpers.weightedArrayElement(ORDER_STATUSES);
    const placed = f.date.past({ years: 1 }).getTime();
    const lineCount = f.number.int({ min: 1, max: 5 });
    let subtotal = 0;
    for (let l = 1; l <= lineCount; l++) {
      const p = f.number.int({ min: 0, max: o.products - 1 });
      const quantity = f.helpers.weightedArrayElement([{ weight: 70, value: 1 }, { weight: 20, value: 2 }, { weight: 10, value: f.number.int({ min: 3, max: 10 }) }]);
      const unit = productPrices[p]!;
      const total = unit * quantity;
      subtotal += total;
      data.order_lines.push({
        shop_id: shop, order_number: number, line_number: l, sku: productSku(p), product_name: productNames[p]!,
        quantity, unit_price: centsToDecimal(unit), discount_amount: '0.00', line_total: centsToDecimal(total),
        currency: CURRENCY, created_at: iso(placed), updated_at: iso(placed),
      });
    }
    const discount = f.number.float() < 0.15 ? percentOf(subtotal, 10) : 0;
    const shipping = subtotal - discount >= 5_000 ? 0 : 490;
    const net = subtotal - discount + shipping;
    const tax = percentOf(net, VAT_PERCENT);
    const total = net + tax;
    const isPaid = ['paid', 'fulfilled', 'shipped', 'delivered', 'refunded'].includes(status);
    const paidAt = isPaid ? placed + f.number.int({ min: 5_000, max: 3_600_000 }) : null;
    const shippedAt = ['shipped', 'delivered'].includes(status) && paidAt ? paidAt + f.number.int({ min: 1, max: 3 }) * DAY_MS : null;
    const cancelledAt = status === 'cancelled' ? placed + f.number.int({ min: 1, max: 48 }) * 3_600_000 : null;
    const lastChange = Math.max(placed, paidAt ?? 0, shippedAt ?? 0, cancelledAt ?? 0);
    data.orders.push({
      shop_id: shop, order_number: number, customer_number: customer, status, currency: CURRENCY,
      subtotal_amount: centsToDecimal(subtotal), discount_amount: centsToDecimal(discount),
      shipping_amount: centsToDecimal(shipping), tax_amount: centsToDecimal(tax), total_amount: centsToDecimal(total),
      notes: f.number.float() < 0.1 ? f.lorem.sentence() : null,
      placed_at: iso(placed), paid_at: paidAt === null ? null : iso(paidAt),
      shipped_at: shippedAt === null ? null : iso(shippedAt), cancelled_at: cancelledAt === null ? null : iso(cancelledAt),
      created_at: iso(placed), updated_at: iso(lastChange),
    });

    const via = f.helpers.arrayElement(PROVIDERS);
    const payment = (paymentStatus: string, at: number, reason: string | null) => {
      paymentSeq += 1;
      data.payments.push({
        shop_id: shop, provider_transaction_id: `${via.prefix}_${f.string.alphanumeric(14)}_${paymentSeq}`,
        provider: via.provider, order_number: number, method: via.method, amount: centsToDecimal(total),
        currency: CURRENCY, status: paymentStatus, failure_reason: reason, processed_at: iso(at),
        created_at: iso(at), updated_at: iso(at),
      });
    };
    if (isPaid) {
      if (f.number.float() < 0.05) payment('failed', placed + 1_000, f.helpers.arrayElement(['card_declined', 'insufficient_funds', 'expired_card']));
      payment(status === 'refunded' ? 'refunded' : 'captured', paidAt!, null);
      const issued = paidAt! + 60_000;
      data.invoices.push({
        shop_id: shop, invoice_number: `INV-${pad(i + 1, 8)}`, order_number: number, customer_number: customer,
        status: status === 'refunded' ? 'void' : 'paid', currency: CURRENCY,
        net_amount: centsToDecimal(net), tax_amount: centsToDecimal(tax), total_amount: centsToDecimal(total),
        issued_at: iso(issued), due_date: iso(issued + 14 * DAY_MS).slice(0, 10), paid_at: iso(paidAt!),
        created_at: iso(issued), updated_at: iso(issued),
      });
    } else if (status === 'pending' && f.datatype.boolean()) {
      payment('authorized', placed + 2_000, null);
    }
  }

  // support tickets: one for about every eighth order
  f = fakerFor(o.seed, 5);
  data.support_tickets = [];
  const ticketCount = Math.ceil(o.orders / 8);
  for (let t = 0; t < ticketCount; t++) {
    const order = data.orders[f.number.int({ min: 0, max: o.orders - 1 })]!;
    const aboutOrder = f.number.float() < 0.7;
    const opened = new Date(String(order.placed_at)).getTime() + f.number.int({ min: 1, max: 20 }) * DAY_MS;
    const status = f.helpers.weightedArrayElement([{ weight: 15, value: 'new' }, { weight: 20, value: 'open' }, { weight: 10, value: 'pending' }, { weight: 25, value: 'resolved' }, { weight: 30, value: 'closed' }]);
    const resolved = status === 'resolved' || status === 'closed' ? opened + f.number.int({ min: 1, max: 96 }) * 3_600_000 : null;
    data.support_tickets.push({
      shop_id: shop, ticket_number: `T-${pad(t + 1, 7)}`, customer_number: order.customer_number,
      order_number: aboutOrder ? order.order_number : null,
      subject: f.helpers.arrayElement(['Where is my parcel?', 'Item arrived damaged', 'Wrong size delivered', 'Invoice address change', 'Refund not received', 'Question about a product']),
      description: f.lorem.sentences({ min: 1, max: 3 }),
      status, priority: f.helpers.weightedArrayElement([{ weight: 20, value: 'low' }, { weight: 50, value: 'medium' }, { weight: 25, value: 'high' }, { weight: 5, value: 'urgent' }]),
      channel: f.helpers.arrayElement(['email', 'chat', 'phone', 'web']),
      opened_at: iso(opened), resolved_at: resolved === null ? null : iso(resolved),
      created_at: iso(opened), updated_at: iso(resolved ?? opened),
    });
  }
  return data;
}
