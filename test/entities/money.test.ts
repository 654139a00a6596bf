import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addMoney, compareMoney, moneyToNumber, multiplyMoney, normalizeMoney, parseDecimal } from '../../src/entities/money.ts';

test('money adds exactly to the cent where floats do not (19.99 + 0.01, 0.1 + 0.2)', () => {
  assert.equal(addMoney('19.99', '0.01'), '20.00');
  assert.equal(addMoney('0.10', '0.20'), '0.30');
  assert.notEqual(0.1 + 0.2, 0.3); // what binary floats would have done
  assert.equal(addMoney('1000000000.01', '-0.02'), '999999999.99');
  assert.equal(multiplyMoney('19.99', 3), '59.97');
});

test('canonical money: two decimals at least, equal values compare equal whatever their source scale', () => {
  assert.equal(normalizeMoney('19.9'), '19.90');
  assert.equal(normalizeMoney(19.9), '19.90');
  assert.equal(normalizeMoney('1200'), '1200.00');
  assert.equal(normalizeMoney('0.125'), '0.125');
  assert.equal(normalizeMoney('5.000'), '5.00');
  assert.equal(normalizeMoney('-0.5'), '-0.50');
  assert.equal(normalizeMoney('1.5E+3'), '1500.00');
  assert.equal(normalizeMoney(1e21), '1000000000000000000000.00');
  assert.equal(compareMoney('19.90', '19.9'), 0);
  assert.equal(compareMoney('19.99', '20'), -1);
});

test('Debezium decimals: string mode, precise base64 bytes with a known scale, and variable-scale structs', () => {
  // 1999 = 0x07CF -> "B88=" ; scale 2 -> 19.99
  assert.equal(normalizeMoney('B88=', 2), '19.99');
  // -1 as one byte 0xFF, scale 2 -> -0.01
  assert.equal(normalizeMoney('/w==', 2), '-0.01');
  assert.equal(normalizeMoney({ scale: 2, value: 'B88=' }), '19.99');
  assert.throws(() => parseDecimal('12,50'), /not a decimal/);
  assert.throws(() => parseDecimal(Number.NaN), /finite/);
});

test('a decimal becomes a JSON number only when that is exact', () => {
  assert.equal(JSON.stringify({ UnitPrice: moneyToNumber('19.99') }), '{"UnitPrice":19.99}');
  assert.throws(() => moneyToNumber('12345678901234567.89'), /15 significant digits/);
});
