// request-transformer through its access handler: every operation on headers, query, JSON, form and multipart bodies, the
// method and uri changes, templates, and Kong's order remove → rename → replace → add → append.
import assert from 'node:assert/strict';
import { multipartBoundary, parseMultipart, partText } from '../../../../src/core/http/multipart.js';
import plugin from '../../../../src/core/plugins/request-transformer/handler.js';
import type { RequestTransformerConfig } from '../../../../src/core/plugins/request-transformer/transform.js';
import { fakeContext, type FakeContextInput } from '../../../helpers/plugin-context.js';

type Lists = Partial<Record<'body' | 'headers' | 'querystring', string[]>>;

function config(ops: {
  remove?: Lists;
  rename?: Lists;
  replace?: Lists & { uri?: string };
  add?: Lists;
  append?: Lists;
  http_method?: string;
}): RequestTransformerConfig {
  const lists = (l: Lists = {}) => ({ body: [], headers: [], querystring: [], ...l });
  return {
    http_method: ops.http_method ?? null,
    remove: lists(ops.remove),
    rename: lists(ops.rename),
    replace: { ...lists(ops.replace), uri: ops.replace?.uri ?? null },
    add: lists(ops.add),
    append: lists(ops.append),
  };
}

async function run(
  conf: RequestTransformerConfig,
  input: Omit<FakeContextInput<RequestTransformerConfig>, 'config'>,
) {
  const ctx = fakeContext({ ...input, config: conf });
  await plugin.access!(ctx);
  return { ctx, upstream: ctx.request.upstream, body: async () => (await ctx.request.getBody()).toString() };
}

describe('request-transformer', () => {
  it("is Kong's request-transformer at priority 801", () => {
    assert.equal(plugin.name, 'request-transformer');
    assert.equal(plugin.priority, 801);
    assert.equal(plugin.schema.name, 'request-transformer');
  });

  describe('headers', () => {
    it('removes, renames, replaces, adds and appends', async () => {
      const { upstream } = await run(
        config({
          remove: { headers: ['X-Gone', 'x-absent'] },
          rename: { headers: ['X-Old:X-New'] },
          replace: { headers: ['x-replaced:new', 'x-not-there:ignored'] },
          add: { headers: ['x-added:1', 'x-replaced:not-added'] },
          append: { headers: ['x-list:b', 'x-fresh:only'] },
        }),
        {
          headers: { 'x-gone': '1', 'x-old': 'moved', 'x-replaced': 'old', 'x-list': 'a', 'x-kept': 'k' },
        },
      );
      assert.deepEqual(upstream.headers, {
        host: 'example.com',
        'x-new': 'moved',
        'x-replaced': 'new',
        'x-added': '1',
        'x-list': ['a', 'b'],
        'x-fresh': ['only'],
        'x-kept': 'k',
      });
    });

    it("runs in Kong's order: a renamed header is then replaced, a removed one can be added back", async () => {
      const { upstream } = await run(
        config({
          remove: { headers: ['x-a'] },
          rename: { headers: ['x-b:x-c'] },
          replace: { headers: ['x-c:replaced'] },
          add: { headers: ['x-a:added-again', 'x-c:not-added'] },
          append: { headers: ['x-c:appended'] },
        }),
        { headers: { 'x-a': 'original', 'x-b': 'value' } },
      );
      assert.equal(upstream.headers['x-a'], 'added-again');
      assert.equal(upstream.headers['x-b'], undefined);
      assert.deepEqual(upstream.headers['x-c'], ['replaced', 'appended']);
    });

    it('replaces Host even though it is never added or appended', async () => {
      const replaced = await run(config({ replace: { headers: ['Host:upstream.test'] } }), {});
      assert.equal(replaced.upstream.headers.host, 'upstream.test');
      const added = await run(
        config({ add: { headers: ['host:nope'] }, append: { headers: ['host:nope'] } }),
        {},
      );
      assert.equal(added.upstream.headers.host, 'example.com');
    });

    it('fills templates from the client request', async () => {
      const { upstream } = await run(
        config({
          add: {
            headers: [
              'x-user:$(headers.x_user_id)',
              'x-page:page-$(query_params["page"])',
              'x-default:$(headers.missing or query_params.missing or "anonymous")',
              'x-empty:[$(headers.missing)]',
            ],
          },
        }),
        { headers: { 'x-user-id': '42' }, query: 'page=3' },
      );
      assert.equal(upstream.headers['x-user'], '42');
      assert.equal(upstream.headers['x-page'], 'page-3');
      assert.equal(upstream.headers['x-default'], 'anonymous');
      assert.equal(upstream.headers['x-empty'], '[]');
    });

    it('fails the request on a template it cannot evaluate', async () => {
      await assert.rejects(
        run(config({ add: { headers: ['x:$(os.execute("id"))'] } }), {}),
        /request-transformer.*failed to render the template/,
      );
    });
  });

  describe('query string', () => {
    it('removes, renames, replaces, adds and appends, and writes names sorted as Kong does', async () => {
      const { upstream } = await run(
        config({
          remove: { querystring: ['gone'] },
          rename: { querystring: ['old:new'] },
          replace: { querystring: ['r:2', 'missing:x'] },
          add: { querystring: ['a:hello world', 'r:not-added'] },
          append: { querystring: ['list:2', 'flag:yes'] }, // a bare flag is replaced, as in Kong
        }),
        { query: 'z=last&gone=1&old=o&r=1&list=1&flag' },
      );
      assert.equal(upstream.query, 'a=hello%20world&flag=yes&list=1&list=2&new=o&r=2&z=last');
    });

    it('deletes an argument replaced with an empty value and leaves the query alone without query lists', async () => {
      assert.equal(
        (await run(config({ replace: { querystring: ['a:'] } }), { query: 'a=1&b=2' })).upstream.query,
        'b=2',
      );
      assert.equal(
        (await run(config({ add: { headers: ['x:1'] } }), { query: 'b=2&a=1' })).upstream.query,
        'b=2&a=1',
      );
    });
  });

  describe('JSON body', () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };

    it('removes, renames, replaces, adds and appends members', async () => {
      const { body } = await run(
        config({
          remove: { body: ['secret'] },
          rename: { body: ['old:new'] },
          replace: { body: ['name:bob', 'missing:x'] },
          add: { body: ['added:yes', 'name:not-added'] },
          append: { body: ['tags:b', 'fresh:1', 'count:2'] },
        }),
        {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ secret: 's', old: 1, name: 'alice', tags: 'a', count: 5 }),
        },
      );
      assert.deepEqual(JSON.parse(await body()), {
        new: 1,
        name: 'bob',
        tags: ['a', 'b'],
        count: ['2'],
        added: 'yes',
        fresh: ['1'],
      });
    });

    it('treats false as missing (Lua truthiness) but replaces null', async () => {
      const { body } = await run(config({ replace: { body: ['f:x', 'n:y'] }, add: { body: ['f:added'] } }), {
        method: 'POST',
        headers: json,
        body: '{"f":false,"n":null}',
      });
      assert.deepEqual(JSON.parse(await body()), { f: 'added', n: 'y' });
    });

    it('builds an object for add and append on an empty body', async () => {
      const { body } = await run(config({ add: { body: ['a:1'] }, append: { body: ['l:x'] } }), {
        method: 'POST',
        headers: json,
        body: '',
      });
      assert.equal(await body(), '{"a":"1","l":["x"]}');
    });

    it('leaves invalid JSON, arrays and scalars untouched', async () => {
      for (const raw of ['{not json', '[1,2]', '42']) {
        const { body } = await run(config({ add: { body: ['a:1'] }, remove: { body: ['x'] } }), {
          method: 'POST',
          headers: json,
          body: raw,
        });
        assert.equal(await body(), raw);
      }
    });
  });

  describe('multipart body', () => {
    const type = 'multipart/form-data; boundary=b';
    const field = (name: string, value: string) =>
      `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const FILE = Buffer.from([0, 1, 2, 0x0d, 0x0a, 0x2d, 0x2d, 0x62, 0x58, 0xff]); // includes CRLF "--bX"
    const filePart = (name: string) =>
      Buffer.concat([
        Buffer.from(
          `--b\r\nContent-Disposition: form-data; name="${name}"; filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        FILE,
        Buffer.from('\r\n'),
      ]);
    const multipart = (...pieces: (string | Buffer)[]) =>
      Buffer.concat([...pieces.map((p) => Buffer.from(p)), Buffer.from('--b--\r\n')]);
    const send = (conf: RequestTransformerConfig, body: Buffer | string, contentType = type) =>
      run(conf, { method: 'POST', headers: { 'content-type': contentType }, body });
    const fields = async (r: Awaited<ReturnType<typeof send>>) => {
      const ct = String(r.upstream.headers['content-type']);
      const boundary = multipartBoundary(ct)!;
      return parseMultipart(await r.ctx.request.getBody(), boundary).map((p) => [
        p.name,
        p.filename,
        p.filename === null ? partText(p) : p.body.toString('hex'),
      ]);
    };

    it("renames, removes, replaces and adds fields in Kong's order; the file part keeps its bytes", async () => {
      const r = await send(
        config({
          rename: { body: ['upload:document', 'old:new'] },
          remove: { body: ['gone', 'new'] },
          replace: { body: ['r:two words', 'absent:x'] },
          add: { body: ['a:$(headers.x_tag)', 'r:not-added'] },
        }),
        multipart(
          field('gone', '1'),
          field('old', 'o'),
          field('r', '1'),
          filePart('upload'),
          field('r', '2'),
        ),
      );
      assert.equal(r.ctx.exited, null);
      assert.deepEqual(await fields(r), [
        ['r', null, 'two words'],
        ['document', 'f.bin', FILE.toString('hex')],
        ['a', null, ''],
      ]);
      assert.equal(r.upstream.headers['content-type'], type);
    });

    it('renaming onto an existing name replaces that field; append adds one more field (beyond Kong)', async () => {
      const r = await send(
        config({ rename: { body: ['a:b'] }, append: { body: ['b:3', 'c:4'] } }),
        multipart(field('a', '1'), field('b', '2')),
      );
      assert.deepEqual(await fields(r), [
        ['b', null, '1'],
        ['b', null, '3'],
        ['c', null, '4'],
      ]);
    });

    it('an empty replacement deletes the field', async () => {
      const r = await send(
        config({ replace: { body: ['a:'] } }),
        multipart(field('a', '1'), field('k', 'v')),
      );
      assert.deepEqual(await fields(r), [['k', null, 'v']]);
    });

    it('leaves a body byte for byte when nothing applies', async () => {
      const raw = Buffer.concat([
        Buffer.from('preamble\r\n'),
        multipart(filePart('f'), field('k', 'v')),
        Buffer.from('epilogue'),
      ]);
      const r = await send(config({ remove: { body: ['absent'] }, rename: { body: ['x:y'] } }), raw);
      assert.ok((await r.ctx.request.getBody()).equals(raw));
    });

    it('on an empty body only adds, choosing a boundary when the Content-Type names none', async () => {
      const r = await send(
        config({ remove: { body: ['a'] }, add: { body: ['a:1'] } }),
        '',
        'multipart/form-data',
      );
      assert.match(
        String(r.upstream.headers['content-type']),
        /^multipart\/form-data; boundary=----hybrid-[0-9a-f]{24}$/,
      );
      assert.deepEqual(await fields(r), [['a', null, '1']]);
    });

    it('moves to a fresh boundary when an added value contains the delimiter', async () => {
      const r = await send(config({ add: { body: ['evil:x\r\n--b--'] } }), multipart(field('k', 'v')));
      assert.notEqual(r.upstream.headers['content-type'], type);
      assert.deepEqual(await fields(r), [
        ['k', null, 'v'],
        ['evil', null, 'x\r\n--b--'],
      ]);
    });

    const malformed: [string, string, string | Buffer, RegExp][] = [
      [
        'a truncated body',
        type,
        '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhal',
        /no closing '--b' delimiter/,
      ],
      ['no boundary', 'multipart/form-data', field('a', '1'), /no boundary in the Content-Type/],
      [
        'a part without a name',
        type,
        '--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--',
        /has no name/,
      ],
    ];
    for (const [what, contentType, body, message] of malformed)
      it(`refuses ${what} with 400, upstream not called`, async () => {
        const r = await send(config({ remove: { body: ['a'] } }), body, contentType);
        assert.equal(r.ctx.exited?.status, 400);
        assert.match(
          (r.ctx.exited?.body as { message: string }).message,
          /^Invalid multipart\/form-data body: /,
        );
        assert.match((r.ctx.exited?.body as { message: string }).message, message);
      });

    it('does not read a malformed body when no body operation is configured', async () => {
      const r = await send(config({ add: { headers: ['x:1'] } }), 'garbage');
      assert.equal(r.ctx.exited, null);
      assert.equal(await r.body(), 'garbage');
    });
  });

  describe('form body', () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    it('removes, renames, replaces, adds and appends fields', async () => {
      const { body } = await run(
        config({
          remove: { body: ['gone'] },
          rename: { body: ['old:new'] },
          replace: { body: ['r:two words'] },
          add: { body: ['a:1'] },
          append: { body: ['r:3'] },
        }),
        { method: 'POST', headers: form, body: 'gone=1&old=o&r=1' },
      );
      assert.equal(await body(), 'r=two%20words&r=3&new=o&a=1');
    });

    it('leaves bodies of other types alone', async () => {
      const { body } = await run(config({ add: { body: ['a:1'] } }), {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'plain',
      });
      assert.equal(await body(), 'plain');
    });
  });

  describe('method and uri', () => {
    it('changes the method; a form POST turned into GET carries its fields in the query', async () => {
      const { upstream } = await run(config({ http_method: 'GET' }), {
        method: 'POST',
        query: 'b=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=x&b=2',
      });
      assert.equal(upstream.method, 'GET');
      assert.equal(upstream.query, 'a=x&b=1&b=2');
    });

    it('changes the method of a JSON request without touching its query', async () => {
      const { upstream } = await run(config({ http_method: 'PUT' }), {
        method: 'POST',
        query: 'b=1',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(upstream.method, 'PUT');
      assert.equal(upstream.query, 'b=1');
    });

    it('replaces the upstream path, with uri captures and query arguments in templates', async () => {
      const ctx = fakeContext({
        config: config({
          replace: { uri: '/users/$(uri_captures.id)/$(uri_captures[2])/$(query_params.v)' },
        }),
        path: '/u/7/posts',
        query: 'v=2',
      });
      Object.assign(ctx.request, { captures: { unnamed: ['7', 'posts'], named: { id: '7' } } });
      await plugin.access!(ctx);
      assert.equal(ctx.request.upstream.path, '/users/7/posts/2');
    });

    it('fails on a uri that does not start with a slash', async () => {
      await assert.rejects(run(config({ replace: { uri: 'relative' } }), {}), /does not start with \//);
    });
  });
});
