// Cache-Control parsing, freshness lifetimes and proxy-cache's content-type matching.
import assert from 'node:assert/strict';
import { parseDirectives, resourceTtl } from '../../../../src/core/plugins/proxy-cache/cache-control.js';
import {
  contentTypeMatcher,
  isJsonMediaType,
  parseMediaType,
} from '../../../../src/core/plugins/proxy-cache/media-type.js';

describe('proxy-cache Cache-Control and media types', () => {
  it('parses directives: numbers, text, bare names, several headers', () => {
    const cc = parseDirectives(['Public, Max-Age=60', 'x-ext="a b"', 'no-cache']);
    assert.equal(cc.public, true);
    assert.equal(cc['max-age'], 60);
    assert.equal(cc['x-ext'], '"a b"');
    assert.equal(cc['no-cache'], true);
    assert.deepEqual({ ...parseDirectives(undefined) }, {});
  });

  it('takes s-maxage over max-age, then Expires, never below 0', () => {
    const now = 1_700_000_000;
    assert.equal(resourceTtl(parseDirectives('max-age=10, s-maxage=20'), undefined, now), 20);
    assert.equal(
      resourceTtl(parseDirectives('max-age=10'), new Date((now + 99) * 1000).toUTCString(), now),
      10,
    );
    const expires = [new Date((now + 5) * 1000).toUTCString(), new Date((now + 50) * 1000).toUTCString()];
    assert.equal(resourceTtl(parseDirectives('public'), expires, now), 50, 'the last Expires wins');
    assert.equal(resourceTtl(parseDirectives('public'), 'Thu, 01 Jan 1970 00:00:00 GMT', now), 0);
    assert.equal(resourceTtl(parseDirectives('max-age=soon'), undefined, now), 0);
    assert.equal(resourceTtl(parseDirectives(''), 'not a date', now), 0);
  });

  it('parses media types by the RFC 2045 grammar', () => {
    assert.deepEqual(parseMediaType('application/json; charset=utf-8; q="1"'), {
      type: 'application',
      subtype: 'json',
      params: { charset: 'utf-8', q: '1' },
    });
    assert.deepEqual(parseMediaType('*'), { type: '*', subtype: '*', params: {} });
    assert.equal(parseMediaType('application/json;'), null);
    assert.equal(parseMediaType('nonsense'), null);
  });

  it('matches content types exactly, by type wildcard or the wildcard of all, with the same parameters', () => {
    const matches = contentTypeMatcher(['application/json', 'text/*; charset=utf-8']);
    assert.ok(matches('application/json'));
    assert.ok(!matches('application/json; charset=utf-8'));
    assert.ok(matches('text/html; charset=utf-8'));
    assert.ok(!matches('text/html'));
    assert.ok(!matches('Application/JSON'), 'case matters, as in Kong');
    const any = contentTypeMatcher(['*/*']);
    assert.ok(any('image/png') && !any('image/png; x=1'));
  });

  it('recognises JSON responses for response-transformer', () => {
    assert.ok(isJsonMediaType('application/json'));
    assert.ok(isJsonMediaType('Application/JSON; charset=utf-8'));
    assert.ok(isJsonMediaType('text/plain, application/json'));
    assert.ok(!isJsonMediaType('application/problem+json'));
    assert.ok(!isJsonMediaType('text/json'));
    assert.ok(!isJsonMediaType(undefined));
  });
});
