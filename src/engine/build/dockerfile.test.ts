import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFlags, parseDockerfile } from './dockerfile.ts';

describe('parseDockerfile', () => {
  test('comments, continuations, flags and the two forms', () => {
    const df = parseDockerfile(['# syntax=docker/dockerfile:1', 'FROM busybox AS base', '# a comment', 'RUN echo a \\', '  # inside', '  && echo b', 'COPY --chown=1:2 --from=base /a /b', 'CMD ["sh", "-c", "x"]', 'cmd echo hi', ''].join('\n'));
    assert.deepEqual(
      df.instructions.map((i) => [i.cmd, i.line, i.args]),
      [['FROM', 2, 'busybox AS base'], ['RUN', 4, 'echo a   && echo b'], ['COPY', 7, '/a /b'], ['CMD', 8, '["sh", "-c", "x"]'], ['CMD', 9, 'echo hi']],
    );
    assert.deepEqual(df.instructions[2]!.flags, { chown: '1:2', from: 'base' });
    assert.deepEqual(df.instructions[3]!.json, ['sh', '-c', 'x']);
    assert.equal(df.instructions[4]!.json, undefined);
    assert.equal(df.instructions[1]!.original, 'RUN echo a   && echo b');
  });

  test('the escape directive makes ` the continuation character', () => {
    const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  /w\n');
    assert.equal(df.escape, '`');
    assert.equal(df.instructions[1]!.args, 'dir c:\\   /w');
  });

  test('a directive after an instruction is a comment', () => {
    const df = parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b\n');
    assert.equal(df.escape, '\\');
    assert.equal(df.instructions[1]!.args, 'a  b');
  });

  test('an unknown instruction names its line', () => {
    assert.throws(() => parseDockerfile('FROM x\n\n# c\nfoo bar\n'), /dockerfile parse error on line 4: unknown instruction: FOO/);
  });

  test('heredocs and BuildKit-only flags are refused clearly', () => {
    assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\nEOF\n'), /line 2: RUN: heredocs .* not supported/);
    assert.throws(() => parseDockerfile('FROM x\nRUN --mount=type=cache,target=/c true\n'), /requires BuildKit/);
    const df = parseDockerfile('FROM x\nCOPY --bogus=1 a b\n');
    assert.throws(() => checkFlags(df.instructions[1]!), /line 2: unknown flag: --bogus/);
    // A Dockerfile cannot give itself the host's network (BuildKit's entitlement).
    for (const mode of ['host', 'container:db', 'none']) {
      const run = parseDockerfile(`FROM x\nRUN --network=${mode} true\n`);
      assert.throws(() => checkFlags(run.instructions[1]!), /line 2: RUN --network requires BuildKit/);
    }
    // A shift is not a heredoc.
    assert.equal(parseDockerfile('FROM x\nRUN echo $((1<<2))\n').instructions.length, 2);
  });
});
