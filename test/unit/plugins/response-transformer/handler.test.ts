// response-transformer through its handlers: every header and JSON operation in Kong's order, json_types,
// Content-Length, and the bodies it leaves alone (not JSON, invalid, encoded).
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import plugin from '../../../../src/core/plugins/response-transformer/handler.js';
import type { ResponseTransformerConfig } from '../../../../src/core/plugins/response-transformer/transform.js';
import { fakeContext } from '../../../helpers/plugin-context.js';

type Ops = { json?: string[]; headers?: string[]; json_types?: ('boolean' | 'number' | 'string')[] };

function config(ops: {
  remove?: Ops;
  rename?: Ops;
  replace?: Ops;
  add?: Ops;
  append?: Ops;
}): ResponseTransformerConfig {
  const plain = (o: Ops = {}) => ({ json: o.json ?? [], headers: o.headers ?? [] });
  const typed = (o: Ops = {}) => ({ ...plain(o), json_types: o.json_types ?? [] });
  return {
    remove: plain(ops.remove),
    rename: plain(ops.rename),
    replace: typed(ops.replace),
    add: typed(ops.add),
    append: typed(ops.append),
  };
}

async function respond(conf: ResponseTransformerConfig, headers: OutgoingHttpHeaders, body?: string) {
  const ctx = fakeContext({ config: conf, responseHeaders: headers });
  await plugin.header_filter!(ctx);
  const out = body === undefined ? undefined : await plugin.body_filter!(ctx, Buffer.from(body));
  return { ctx, headers: ctx.response.headers, body: out === undefined ? undefined : out.toString() };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

describe('response-transformer', () => {
  it("is Kong's response-transformer at priority 800", () => {
    assert.equal(plugin.name, 'response-transformer');
    assert.equal(plugin.priority, 800);
  });

  describe('headers', () => {
    it('removes, renames, replaces, adds and appends', async () => {
      const { headers } = await respond(
        config({
          remove: { headers: ['X-Gone'] },
          rename: { headers: ['x-old:x-new'] },
          replace: { headers: ['x-replaced:new', 'x-missing:no'] },
          add: { headers: ['x-added:yes', 'x-replaced:not-added'] },
          append: { headers: ['x-list:b', 'x-fresh:1'] },
        }),
        { 'x-gone': '1', 'x-old': 'o', 'x-replaced': 'old', 'x-list': 'a' },
      );
      assert.deepEqual(headers, {
        'x-new': 'o',
        'x-replaced': 'new',
        'x-added': 'yes',
        'x-list': ['a', 'b'],
        'x-fresh': '1',
      });
    });

    it('judges rename, replace and add on the headers as they came, as Kong does', async () => {
      const { headers } = await respond(
        config({
          remove: { headers: ['x-a'] },
          rename: { headers: ['x-b:x-c'] },
          replace: { headers: ['x-c:replaced', 'x-a:replaced'] },
          add: { headers: ['x-a:added', 'x-c:added'] },
        }),
        { 'x-a': '1', 'x-b': '2' },
      );
      // x-a was there before the remove: replace writes it back, add does not.
      assert.equal(headers['x-a'], 'replaced');
      // x-c was not there before the rename: replace skips it, add overwrites the renamed value.
      assert.equal(headers['x-c'], 'added');
    });
  });

  describe('JSON body', () => {
    it('removes, renames, replaces, adds and appends members, then sets the new Content-Length', async () => {
      const body = JSON.stringify({ secret: 1, old: 'o', name: 'alice', tags: 'a', list: [1] });
      const { headers, body: out } = await respond(
        config({
          remove: { json: ['secret'] },
          rename: { json: ['old:new'] },
          replace: { json: ['name:bob', 'missing:x'] },
          add: { json: ['added:yes', 'name:not-added'] },
          append: { json: ['tags:b', 'list:2', 'fresh:f'] },
        }),
        { ...JSON_TYPE, 'content-length': body.length },
        body,
      );
      assert.deepEqual(JSON.parse(out!), {
        new: 'o',
        name: 'bob',
        tags: ['a', 'b'],
        list: [1, '2'],
        added: 'yes',
        fresh: ['f'],
      });
      assert.equal(headers['content-length'], Buffer.byteLength(out!));
    });

    it('casts values by json_types, position by position', async () => {
      const { body } = await respond(
        config({
          add: {
            json: ['n:42', 'b:true', 's:7', 'f:yes', 'bad:abc'],
            json_types: ['number', 'boolean', 'string', 'boolean', 'number'],
          },
          replace: { json: ['r:1.5'], json_types: ['number'] },
          append: { json: ['l:false'], json_types: ['boolean'] },
        }),
        JSON_TYPE,
        '{"r":"old","l":[true]}',
      );
      assert.deepEqual(JSON.parse(body!), { r: 1.5, l: [true, false], n: 42, b: true, s: '7', f: false });
    });

    it('treats false as missing for replace and add, null as present', async () => {
      const { body } = await respond(
        config({ replace: { json: ['f:x', 'n:y'] }, add: { json: ['g:added'] } }),
        JSON_TYPE,
        '{"f":false,"n":null,"g":false}',
      );
      assert.deepEqual(JSON.parse(body!), { f: false, n: 'y', g: 'added' });
    });

    it('leaves invalid JSON, arrays and scalars untouched, keeping nothing but a warning', async () => {
      for (const raw of ['{broken', '[1]', '"text"']) {
        const { ctx, body } = await respond(config({ add: { json: ['a:1'] } }), JSON_TYPE, raw);
        assert.equal(body, undefined, raw);
        assert.equal(ctx.logs[0]?.level, 'warn');
      }
    });

    it('does not touch bodies that are not application/json, or JSON lists without JSON operations', async () => {
      const text = await respond(
        config({ add: { json: ['a:1'] } }),
        { 'content-type': 'text/plain', 'content-length': 2 },
        '{}',
      );
      assert.equal(text.body, undefined);
      assert.equal(text.headers['content-length'], 2);
      const noJsonOps = await respond(
        config({ add: { headers: ['x:1'] } }),
        { ...JSON_TYPE, 'content-length': 2 },
        '{}',
      );
      assert.equal(noJsonOps.body, undefined);
      assert.equal(noJsonOps.headers['content-length'], 2);
    });

    it('passes a gzip-encoded JSON body through unchanged with its length', async () => {
      const headers = { ...JSON_TYPE, 'content-encoding': 'gzip', 'content-length': 20 };
      const { body, headers: out } = await respond(
        config({ add: { json: ['a:1'] } }),
        headers,
        '\x1f\x8b binary',
      );
      assert.equal(body, undefined);
      assert.equal(out['content-length'], 20);
    });
  });
});
