// DAO errors mapped to Kong's HTTP statuses and bodies; the data plane's refusal; `/tags` cursors.
import assert from 'node:assert/strict';
import { daoErrorResponse, dataPlaneWriteRefused } from '../../../src/core/admin/responses.js';
import {
  invalidSize,
  notFound,
  referencedBy,
  StoreError,
  StoreErrorCode,
  uniqueViolation,
} from '../../../src/core/store/errors.js';
import { decodeTagCursor, encodeTagCursor, tagRows } from '../../../src/core/admin/tags.js';
import { maskSensitive } from '../../../src/core/admin/info.js';
import { formatAccessLine } from '../../../src/core/admin/access-log.js';

describe('admin responses', () => {
  it('answers a store error with its Kong status and body, nothing else', () => {
    assert.deepEqual(daoErrorResponse(uniqueViolation({ name: 's1' })), {
      status: 409,
      body: {
        code: 5,
        name: 'unique constraint violation',
        message: `UNIQUE violation detected on '{name="s1"}'`,
        fields: { name: 's1' },
      },
    });
    assert.equal(daoErrorResponse(notFound({ id: 'x' }))?.status, 404);
    assert.equal(daoErrorResponse(referencedBy('routes', 'services'))?.status, 400);
    assert.deepEqual(daoErrorResponse(invalidSize()), {
      status: 400,
      body: { code: 9, name: 'invalid size', message: 'size must be an integer between 1 and 1000' },
    });
    assert.equal(daoErrorResponse(new StoreError(StoreErrorCode.DATABASE_ERROR, 'disk full'))?.status, 500);
  });

  it('does not take other errors for store errors', () => {
    assert.equal(daoErrorResponse(new Error('boom')), null);
    assert.equal(
      daoErrorResponse(Object.assign(new Error('x'), { code: 5, name: 'unique constraint violation' })),
      null,
    );
  });

  it("refuses writes on a data plane with Kong's DB-less body", () => {
    assert.deepEqual(dataPlaneWriteRefused('POST', 'routes'), {
      status: 405,
      body: {
        code: 12,
        name: 'operation unsupported',
        message: "cannot create 'routes' entities when not using a database",
      },
    });
    assert.match(
      (dataPlaneWriteRefused('DELETE', undefined).body as { message: string }).message,
      /disabled on data planes/,
    );
  });

  it('round-trips /tags cursors and refuses forged ones', () => {
    const cursor = { entity: 3, storeOffset: 'abc', skip: 2 };
    assert.deepEqual(decodeTagCursor(encodeTagCursor(cursor)), cursor);
    assert.deepEqual(decodeTagCursor(encodeTagCursor({ entity: 0, skip: 0 })), {
      entity: 0,
      skip: 0,
      storeOffset: undefined,
    });
    for (const bad of [
      '',
      'xyz',
      Buffer.from('[99,null,0]').toString('base64url'),
      Buffer.from('[0,1,0]').toString('base64url'),
    ])
      assert.equal(decodeTagCursor(bad), null);
  });

  it('turns an entity into one row per tag', () => {
    const row = { id: 'i', created_at: 1, tags: ['a', 'b'] };
    assert.deepEqual(tagRows('services', row), [
      { entity_name: 'services', entity_id: 'i', tag: 'a' },
      { entity_name: 'services', entity_id: 'i', tag: 'b' },
    ]);
    assert.deepEqual(tagRows('services', row, 'b'), [{ entity_name: 'services', entity_id: 'i', tag: 'b' }]);
    assert.deepEqual(tagRows('services', { ...row, tags: null }), []);
  });

  it('masks secrets in the configuration served by /', () => {
    assert.deepEqual(
      maskSensitive({
        pg_password: 'hunter2',
        pg_user: 'kong',
        cluster_cert_key: '/etc/kong/cluster.key',
        cluster_cert: '-----BEGIN PRIVATE KEY-----x',
        admin_listen: ['127.0.0.1:8001'],
        pg_ssl: false,
      }),
      {
        pg_password: '******',
        pg_user: 'kong',
        cluster_cert_key: '******',
        cluster_cert: '******',
        admin_listen: ['127.0.0.1:8001'],
        pg_ssl: false,
      },
    );
  });
});

describe('admin access log', () => {
  it("writes nginx's combined format, in UTC", () => {
    assert.equal(
      formatAccessLine({
        remoteAddress: '127.0.0.1',
        time: new Date(Date.UTC(2026, 10, 26, 9, 5, 1)),
        method: 'POST',
        url: '/services?x=1',
        httpVersion: '1.1',
        status: 201,
        bytes: 312,
        userAgent: 'curl/8.5.0',
      }),
      '127.0.0.1 - - [26/Nov/2026:09:05:01 +0000] "POST /services?x=1 HTTP/1.1" 201 312 "-" "curl/8.5.0"',
    );
  });

  it('escapes quotes and control characters so a request cannot forge a line', () => {
    const line = formatAccessLine({
      remoteAddress: '',
      time: new Date(0),
      method: 'GET',
      url: '/x"\n127.0.0.1 - - fake',
      httpVersion: '1.1',
      status: 404,
      bytes: 0,
      userAgent: 'a"b',
    });
    assert.equal(line.split('\n').length, 1);
    assert.match(
      line,
      /^- - - \[01\/Jan\/1970:00:00:00 \+0000\] "GET \/x\\x22\\x0a127\.0\.0\.1 - - fake HTTP\/1\.1" 404 0 "-" "a\\x22b"$/,
    );
  });
});
