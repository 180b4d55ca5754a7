import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { keyValues, processWord, processWords } from './shell-words.ts';

const vars: Record<string, string> = { A: 'a', EMPTY: '', PATH: '/bin' };
const lookup = (n: string): string | undefined => vars[n];

describe('variable substitution', () => {
  test('$VAR, ${VAR} and the modifiers', () => {
    assert.equal(processWord('$A-${A}x', lookup), 'a-ax');
    assert.equal(processWord('${NOPE:-dflt} ${EMPTY:-e} ${EMPTY-e}', lookup), 'dflt e ');
    assert.equal(processWord('${A:+set} ${NOPE:+set} ${EMPTY+set}', lookup), 'set  set');
    assert.equal(processWord('${NOPE:-$A/x}', lookup), 'a/x');
    assert.throws(() => processWord('${NOPE:?must be set}', lookup), /NOPE: must be set/);
    assert.equal(processWord('$1 $ cost', lookup), '$1 $ cost');
  });

  test('quotes and escapes', () => {
    assert.equal(processWord(`'$A' "$A" \\$A "\\$A"`, lookup), '$A a $A $A');
    assert.equal(processWord('"a b"', lookup), 'a b');
    assert.equal(processWord('x`$A', lookup, '`'), 'x$A');
    assert.deepEqual(processWords('one "two three" $A', lookup), ['one', 'two three', 'a']);
  });

  test('ENV pairs use the values from before the instruction', () => {
    assert.deepEqual(keyValues('B=$A C="x y" D=${PATH}:/usr/bin', lookup, '\\', 'ENV', true), [['B', 'a'], ['C', 'x y'], ['D', '/bin:/usr/bin']]);
    assert.deepEqual(keyValues('KEY value with  spaces', lookup, '\\', 'ENV', true), [['KEY', 'value with  spaces']]);
    assert.throws(() => keyValues('=x', lookup, '\\', 'LABEL', true), /LABEL names can not be blank/);
  });
});
