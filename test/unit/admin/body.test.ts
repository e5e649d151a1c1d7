// Request bodies by content type: JSON, urlencoded and multipart forms, and Kong's refusals.
import assert from 'node:assert/strict';
import { findNulCharacter, parseBody } from '../../../src/core/admin/body.js';

const buf = (s: string) => Buffer.from(s, 'utf8');

describe('admin request bodies', () => {
  it('reads a JSON object', () => {
    assert.deepEqual(parseBody('application/json; charset=utf-8', buf('{"name":"s1","retries":3}')), {
      kind: 'json',
      args: { name: 's1', retries: 3 },
    });
  });

  it("answers Kong's message for JSON it cannot parse", () => {
    assert.deepEqual(parseBody('application/json', buf('{"name":')), {
      kind: 'error',
      status: 400,
      body: { message: 'Cannot parse JSON body' },
    });
  });

  it('refuses JSON that is not an object', () => {
    for (const body of ['[1,2]', '"x"', '42', 'null']) {
      const parsed = parseBody('application/json', buf(body));
      assert.equal(parsed.kind, 'error', body);
      assert.equal(parsed.kind === 'error' && parsed.status, 400);
    }
  });

  it('reads urlencoded forms with Kong conventions', () => {
    assert.deepEqual(
      parseBody('application/x-www-form-urlencoded', buf('name=rate-limiting&config.minute=5&tags[]=a')),
      { kind: 'form', args: { name: 'rate-limiting', config: { minute: '5' }, tags: ['a'] } },
    );
  });

  it('answers a schema violation for an inconsistent form', () => {
    const parsed = parseBody('application/x-www-form-urlencoded', buf('config=1&config.minute=5'));
    assert.equal(parsed.kind, 'error');
    assert.equal(parsed.kind === 'error' && parsed.status, 400);
    assert.equal(parsed.kind === 'error' && parsed.body.name, 'schema violation');
  });

  it('treats an empty body as no arguments, whatever the content type', () => {
    assert.deepEqual(parseBody(undefined, buf('')), { kind: 'empty' });
    assert.deepEqual(parseBody('application/json', buf('')), { kind: 'empty' });
  });

  it('refuses other media types with 415', () => {
    for (const type of [undefined, 'text/plain', 'application/xml', 'garbage']) {
      const parsed = parseBody(type, buf('x'));
      assert.deepEqual(parsed, { kind: 'error', status: 415, body: { message: 'Unsupported Media Type' } });
    }
  });

  it('reads multipart forms, files included (curl -F cert=@cert.pem)', () => {
    const body =
      '--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nexample\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="cert"; filename="cert.pem"\r\nContent-Type: application/octet-stream\r\n\r\n' +
      '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n\r\n' +
      '--XyZ\r\nContent-Disposition: form-data; name="tags[]"\r\n\r\nt1\r\n--XyZ--\r\n';
    assert.deepEqual(parseBody('multipart/form-data; boundary=XyZ', buf(body)), {
      kind: 'form',
      args: {
        name: 'example',
        cert: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n',
        tags: ['t1'],
      },
    });
  });

  it('refuses malformed multipart bodies with 400', () => {
    // The parser's own cases are in test/unit/http/multipart.test.ts.
    for (const [type, body] of [
      ['multipart/form-data', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--b--'],
      ['multipart/form-data; boundary=b', '--b\r\nno headers end'],
      ['multipart/form-data; boundary=b', 'nothing'],
    ] as const) {
      assert.deepEqual(parseBody(type, buf(body)), {
        kind: 'error',
        status: 400,
        body: { message: 'Cannot parse multipart body' },
      });
    }
    const parsed = parseBody('multipart/form-data; boundary=b', buf('--b\r\nX: y\r\n\r\nv\r\n--b--'));
    assert.deepEqual(parsed, {
      kind: 'error',
      status: 400,
      body: { message: 'Cannot parse multipart body' },
    });
  });

  it('refuses NUL characters anywhere in the arguments, naming the field', () => {
    assert.equal(findNulCharacter({ a: ['x', { b: 'ok' }] }), null);
    assert.equal(findNulCharacter({ a: ['x', { b: 'n\u0000' }] }), 'a[1].b');
    assert.equal(findNulCharacter({ 'k\u0000': 1 }), 'k\u0000');
    assert.deepEqual(parseBody('application/json', buf('{"username":"a\\u0000b"}')), {
      kind: 'error',
      status: 400,
      body: {
        code: 2,
        name: 'schema violation',
        message: 'schema violation (username: must not contain NUL characters)',
        fields: { username: 'must not contain NUL characters' },
      },
    });
    const form = parseBody('application/x-www-form-urlencoded', buf('tags[]=a%00'));
    assert.equal(form.kind === 'error' && form.status, 400);
  });
});
