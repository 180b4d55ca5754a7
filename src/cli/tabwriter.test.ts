import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tabwrite } from './tabwriter.ts';

test('columns are as wide as their widest cell plus padding, at least minwidth', () => {
  assert.equal(tabwrite('A\tBB\tC\nxxxxxxxxxxxxx\ty\tz\n', 10, 3), 'A               BB        C\nxxxxxxxxxxxxx   y         z\n');
});

test('an empty cell before a trailing empty cell is still padded (docker history)', () => {
  assert.equal(tabwrite('SIZE\tCOMMENT\n0B\t\n4.26MB\tbuildkit\n', 10, 3), 'SIZE      COMMENT\n0B        \n4.26MB    buildkit\n');
});

test('a line without tabs ends a block of columns', () => {
  assert.equal(tabwrite('a\tb\nplain\nlonger-cell\tc\n', 1, 1), 'a b\nplain\nlonger-cell c\n');
});

test('wide characters count double', () => {
  assert.equal(tabwrite('日本\tx\nab\ty\n', 1, 1), '日本 x\nab   y\n');
});
