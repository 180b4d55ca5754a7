import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_KINDS, conflict, internal, invalid, notFound } from '../../errdefs/index.ts';
import { HTTP_STATUS_BY_KIND, httpStatusOf, streamErrorLine } from './errors.ts';

test('every error kind has an HTTP status, and only those', () => {
  assert.deepEqual(Object.keys(HTTP_STATUS_BY_KIND).sort(), [...ERROR_KINDS].sort());
  for (const kind of ERROR_KINDS) {
    const status = HTTP_STATUS_BY_KIND[kind];
    assert.ok(status >= 400 && status < 600, `${kind} → ${status}`);
  }
});

test('statuses follow dockerd', () => {
  assert.equal(httpStatusOf(invalid('x')), 400);
  assert.equal(httpStatusOf(notFound('x')), 404);
  assert.equal(httpStatusOf(conflict('x')), 409);
  assert.equal(httpStatusOf(internal('x')), 500);
  assert.equal(HTTP_STATUS_BY_KIND.unauthorized, 401);
  assert.equal(HTTP_STATUS_BY_KIND.forbidden, 403);
  assert.equal(HTTP_STATUS_BY_KIND.unavailable, 503);
  assert.equal(HTTP_STATUS_BY_KIND['not-implemented'], 501);
  // A foreign error is internal.
  assert.equal(httpStatusOf(new TypeError('boom')), 500);
});

test('an error after streaming began is an errorDetail line', () => {
  assert.equal(streamErrorLine(notFound('manifest unknown')), '{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n');
});
