// Path routing: parameters, literal precedence, trailing slashes, 404 versus 405.
import assert from 'node:assert/strict';
import { AdminRouter, compilePattern, splitPath } from '../../../src/core/admin/router.js';

describe('admin router', () => {
  const router = new AdminRouter<string>()
    .add('GET', '/', 'root')
    .add('GET', '/plugins/:key', 'plugin')
    .add('PATCH', '/plugins/:key', 'patch plugin')
    .add('GET', '/plugins/enabled', 'enabled')
    .add('GET', '/services/:parent/routes', 'service routes')
    .add('POST', '/services/:parent/routes', 'add route');

  it('matches the root and parameters', () => {
    assert.deepEqual(router.match('GET', '/'), { kind: 'found', handler: 'root', params: {}, pattern: '/' });
    const m = router.match('GET', '/services/example-service/routes');
    assert.equal(m.kind, 'found');
    assert.deepEqual(m.kind === 'found' && m.params, { parent: 'example-service' });
  });

  it('prefers literal segments whatever the registration order', () => {
    const m = router.match('GET', '/plugins/enabled');
    assert.equal(m.kind === 'found' && m.handler, 'enabled');
    assert.equal(router.match('GET', '/plugins/abc').kind === 'found', true);
  });

  it('ignores a trailing slash, as Kong does', () => {
    const m = router.match('POST', '/services/s/routes/');
    assert.equal(m.kind === 'found' && m.handler, 'add route');
  });

  it('decodes percent-escapes in parameters and tolerates bad ones', () => {
    const m = router.match('GET', '/plugins/a%20b');
    assert.deepEqual(m.kind === 'found' && m.params, { key: 'a b' });
    const bad = router.match('GET', '/plugins/%zz');
    assert.deepEqual(bad.kind === 'found' && bad.params, { key: '%zz' });
  });

  it('answers 405 with the allowed methods when the path exists', () => {
    assert.deepEqual(router.match('DELETE', '/plugins/abc'), {
      kind: 'method_not_allowed',
      allowed: ['GET', 'PATCH'],
      pattern: '/plugins/:key',
    });
  });

  it('answers 404 for unknown paths and empty segments', () => {
    assert.equal(router.match('GET', '/nope').kind, 'not_found');
    assert.equal(router.match('GET', '/services//routes').kind, 'not_found');
  });

  it('lists patterns the Kong way and refuses duplicates and bad patterns', () => {
    assert.ok(router.patterns().includes('/services/{parent}/routes'));
    assert.throws(() => router.add('GET', '/', 'again'), /already registered/);
    assert.throws(() => compilePattern('services'), /start with/);
    assert.throws(() => compilePattern('/a//b'), /empty segment/);
    assert.throws(() => compilePattern('/a/:'), /parameter name/);
  });

  it('splits paths into decoded segments', () => {
    assert.deepEqual(splitPath('/'), []);
    assert.deepEqual(splitPath('/a/b%2Fc/'), ['a', 'b/c']);
  });
});
