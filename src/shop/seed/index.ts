export { seedShop, type SeedResult, type SeedProgress } from './seed.ts';
export { generateSeedData, REFERENCE_DATE, type SeedData, type Row } from './generate.ts';
export { resolveSeedOptions, type SeedOptions, type SeedOptionsInput } from './options.ts';
export { centsToDecimal } from './money.ts';
