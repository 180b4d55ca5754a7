import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, ellipsis, formatG, humanDuration, humanSize, humanSizeWithPrecision, reformatDate, truncateId } from './units.ts';

test('sizes: three significant digits in tables, four elsewhere, as go-units', () => {
  assert.equal(humanSizeWithPrecision(4261574, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(123456789, 3), '123MB');
  assert.equal(humanSizeWithPrecision(7_800_000_000, 3), '7.8GB');
  assert.equal(humanSizeWithPrecision(999, 3), '999B');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(999_950, 3), '1e+03kB'); // Go's %.3g, faithfully
  assert.equal(humanSize(4261574), '4.262MB');
  assert.equal(humanSize(32768), '32.77kB');
  assert.equal(bytesSize(16685408256), '15.54GiB');
});

test('Go %g formatting', () => {
  assert.equal(formatG(4.261574, 3), '4.26');
  assert.equal(formatG(12, 3), '12');
  assert.equal(formatG(1.5e-5, 3), '1.5e-05');
  assert.equal(formatG(123456, 4), '1.235e+05');
});

test('durations as go-units HumanDuration', () => {
  const s = 1000;
  const h = 3600 * s;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(40 * s), '40 seconds');
  assert.equal(humanDuration(90 * s), 'About a minute');
  assert.equal(humanDuration(5 * 60 * s), '5 minutes');
  assert.equal(humanDuration(0.6 * h), '36 minutes');
  assert.equal(humanDuration(h), 'About an hour');
  assert.equal(humanDuration(30 * h), '30 hours');
  assert.equal(humanDuration(3 * 24 * h), '3 days');
  assert.equal(humanDuration(40 * 24 * h), '5 weeks');
  assert.equal(humanDuration(400 * 24 * h), '13 months');
  assert.equal(humanDuration(3 * 365 * 24 * h), '3 years');
});

test('ids, ellipsis and dates', () => {
  assert.equal(truncateId('sha256:' + 'a'.repeat(64)), 'aaaaaaaaaaaa');
  assert.equal(truncateId('<missing>'), '<missing>');
  assert.equal(ellipsis('/bin/sh -c #(nop) ADD file:7d1b8a3f9ad1f4b5e8f2a5b1c4d9e2 in /', 45), '/bin/sh -c #(nop) ADD file:7d1b8a3f9ad1f4b5e…');
  assert.equal(ellipsis('short', 45), 'short');
  assert.equal(ellipsis('日本語テキスト', 6), '日本…');
  const tz = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    assert.equal(reformatDate('2025-01-01T00:00:00.000000000+00:00'), 'Wed Jan  1 00:00:00 2025');
    assert.equal(reformatDate('not a date'), 'not a date');
  } finally {
    process.env.TZ = tz;
  }
});
