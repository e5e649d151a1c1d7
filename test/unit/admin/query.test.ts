// List query parsing with Kong's rules: page size, tag filters, and the `next` link.
import assert from 'node:assert/strict';
import {
  nextPageLink,
  parseListQuery,
  parsePageSize,
  parseTagFilter,
} from '../../../src/core/admin/query.js';

const q = (s: string) => new URLSearchParams(s);

describe('admin list query', () => {
  it('defaults to 100 per page', () => {
    assert.deepEqual(parseListQuery(q('')), { ok: true, options: { size: 100 } });
  });

  it('accepts size 1..1000 and keeps the offset as given', () => {
    assert.deepEqual(parseListQuery(q('size=1000&offset=abc%3D')), {
      ok: true,
      options: { size: 1000, offset: 'abc=' },
    });
  });

  it("answers Kong's invalid size errors", () => {
    assert.deepEqual(parsePageSize(['abc']), {
      code: 9,
      name: 'invalid size',
      message: 'size must be a number',
    });
    for (const bad of ['0', '1001', '1.5', '-3'])
      assert.deepEqual(parsePageSize([bad]), {
        code: 9,
        name: 'invalid size',
        message: 'size must be an integer between 1 and 1000',
      });
    assert.equal((parsePageSize(['1', '2']) as { message: string }).message, 'size must be a number');
    assert.equal(parseListQuery(q('size=')).ok, false);
  });

  it('reads a,b as AND and a/b as OR', () => {
    assert.deepEqual(parseTagFilter('a,b'), { mode: 'and', tags: ['a', 'b'] });
    assert.deepEqual(parseTagFilter('a/b/c'), { mode: 'or', tags: ['a', 'b', 'c'] });
    assert.deepEqual(parseTagFilter('only'), { mode: 'and', tags: ['only'] });
    assert.deepEqual(parseTagFilter('ünï cödé'), { mode: 'and', tags: ['ünï cödé'] });
  });

  it("refuses mixing , and /, empty tags and control characters, with Kong's body", () => {
    for (const bad of ['a,b/c', 'a,,b', 'a/', ',a', '', 'a\u0001b']) {
      assert.deepEqual(parseTagFilter(bad), {
        code: 11,
        name: 'invalid options',
        message: 'invalid option (tags: invalid filter syntax)',
        options: { tags: 'invalid filter syntax' },
      });
    }
  });

  it('refuses more than 5 tags', () => {
    const result = parseTagFilter('a,b,c,d,e,f') as { message: string };
    assert.equal(result.message, 'invalid option (tags: cannot query more than 5 tags)');
    assert.deepEqual(parseTagFilter('a/b/c/d/e'), { mode: 'or', tags: ['a', 'b', 'c', 'd', 'e'] });
  });

  it('builds next links that keep tags and size, or null on the last page', () => {
    assert.equal(nextPageLink('/services', undefined, q('size=2')), null);
    assert.equal(nextPageLink('/services', 'a b/c=', q('')), '/services?offset=a%20b%2Fc%3D');
    assert.equal(
      nextPageLink('/services/s1/routes', 'xyz', q('tags=a,b&size=2&offset=old')),
      '/services/s1/routes?offset=xyz&tags=a%2Cb&size=2',
    );
  });
});
