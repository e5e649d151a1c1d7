// key-auth through a real proxy: where keys are found, Kong's 401s, hide_credentials, anonymous, preflight,
// X-Consumer-* headers upstream, scoping, and its config validation.
import assert from 'node:assert/strict';
import { BUNDLED_HANDLERS } from '../../../src/core/plugins/handlers.js';
import { schema } from '../../../src/core/plugins/key-auth/schema.js';
import type { DeclarativeConfig } from '../../../src/core/proxy/types.js';
import { validate } from '../../../src/core/schema/schema.js';
import {
  send,
  serviceConfig,
  proxySuite,
  type Echo,
  type TestProxy,
  type Upstream,
  pluginEntity,
} from '../../helpers/proxy.js';
import { encodeForm, sha256, startFormUpstream, type FormEcho } from '../../helpers/multipart.js';

const ALICE = { id: '00000000-0000-4000-8000-00000000a11c', username: 'alice', custom_id: 'cust-1' };
const GUEST = { id: '00000000-0000-4000-8000-0000000009e5', username: 'guest' };
const CRED = { id: '00000000-0000-4000-8000-00000000c4ed', key: 'secret-1', consumer: { id: ALICE.id } };

describe('plugin: key-auth', () => {
  const { upstream, startProxy } = proxySuite();
  let proxy: TestProxy;

  const start = async (
    pluginConfig: Record<string, unknown>,
    scope: Record<string, unknown> = {},
  ): Promise<TestProxy> => {
    const config: DeclarativeConfig = serviceConfig(
      { host: '127.0.0.1', port: upstream.port },
      [
        { id: 'route-1', paths: ['/secure'] },
        { id: 'route-2', paths: ['/open'] },
      ],
      {
        consumers: [ALICE, GUEST],
        keyauth_credentials: [CRED],
        plugins: [pluginEntity('key-auth', pluginConfig, scope)],
      },
    );
    return (proxy = await startProxy({ plugins: BUNDLED_HANDLERS, config }));
  };
  const echoOf = (text: string) => JSON.parse(text) as Echo;

  it('answers 401 "No API key found in request" with a WWW-Authenticate challenge', async () => {
    await start({});
    const reply = await send(proxy.port, { path: '/secure' });
    assert.equal(reply.status, 401);
    assert.deepEqual(JSON.parse(reply.text), { message: 'No API key found in request' });
    assert.equal(reply.headers['www-authenticate'], 'Key realm="kong"');
    assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
  });

  it('answers 401 "Unauthorized" for an unknown key, with the configured realm', async () => {
    await start({ realm: 'my-api' });
    const reply = await send(proxy.port, { path: '/secure', headers: { apikey: 'nope' } });
    assert.equal(reply.status, 401);
    assert.deepEqual(JSON.parse(reply.text), { message: 'Unauthorized' });
    assert.equal(reply.headers['www-authenticate'], 'Key realm="my-api"');
  });

  it('accepts a key in a header and tells the upstream who the consumer is', async () => {
    await start({});
    const reply = await send(proxy.port, { path: '/secure', headers: { apikey: 'secret-1' } });
    assert.equal(reply.status, 200);
    const { headers } = echoOf(reply.text);
    assert.equal(headers['x-consumer-id'], ALICE.id);
    assert.equal(headers['x-consumer-username'], 'alice');
    assert.equal(headers['x-consumer-custom-id'], 'cust-1');
    assert.equal(headers['x-credential-identifier'], CRED.id);
    assert.equal(headers['x-anonymous-consumer'], undefined);
    // Without hide_credentials the key goes upstream too.
    assert.equal(headers.apikey, 'secret-1');
  });

  it('accepts a key in the query string, and in the header under any configured key name', async () => {
    await start({ key_names: ['apikey', 'X-Token'] });
    assert.equal((await send(proxy.port, { path: '/secure?apikey=secret-1' })).status, 200);
    assert.equal(
      (await send(proxy.port, { path: '/secure', headers: { 'x-token': 'secret-1' } })).status,
      200,
    );
    const duplicate = await send(proxy.port, { path: '/secure?apikey=secret-1&apikey=secret-1' });
    assert.equal(duplicate.status, 401);
    assert.deepEqual(JSON.parse(duplicate.text), { message: 'Duplicate API key found' });
  });

  it('looks in the body (form and JSON) only with key_in_body; hide_credentials removes it from there', async () => {
    await start({ key_in_body: true, hide_credentials: true });
    const form = await send(proxy.port, {
      method: 'POST',
      path: '/secure',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'apikey=secret-1&other=2',
    });
    assert.equal(form.status, 200);
    const formEcho = echoOf(form.text);
    assert.equal(formEcho.body, 'other=2');
    assert.equal(formEcho.headers['content-length'], '7');
    const json = await send(proxy.port, {
      method: 'POST',
      path: '/secure',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apikey: 'secret-1', keep: true }),
    });
    assert.equal(json.status, 200);
    assert.deepEqual(JSON.parse(echoOf(json.text).body), { keep: true });

    await proxy.close();
    await start({});
    const ignored = await send(proxy.port, {
      method: 'POST',
      path: '/secure',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'apikey=secret-1',
    });
    assert.equal(ignored.status, 401);
  });

  describe('multipart/form-data bodies (key_in_body)', () => {
    let forms: Upstream;
    before(async () => {
      forms = await startFormUpstream();
    });
    after(async () => forms.close());
    const FILE = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    const startForms = async (pluginConfig: Record<string, unknown>) => {
      proxy = await startProxy({
        plugins: BUNDLED_HANDLERS,
        config: serviceConfig(
          { host: '127.0.0.1', port: forms.port },
          [{ id: 'route-1', paths: ['/secure'] }],
          {
            consumers: [ALICE],
            keyauth_credentials: [CRED],
            plugins: [pluginEntity('key-auth', pluginConfig)],
          },
        ),
      });
    };
    const post = (body: Buffer | string, contentType: string) =>
      send(proxy.port, { method: 'POST', path: '/secure', headers: { 'content-type': contentType }, body });
    const formWith = (...fields: [string, string][]) => {
      const form = new FormData();
      for (const [name, value] of fields) form.append(name, value);
      form.append('file', new Blob([FILE], { type: 'image/png' }), 'pic.png');
      return encodeForm(form);
    };

    it('finds the key in a multipart field; hide_credentials removes it, the file part arrives byte for byte', async () => {
      await startForms({ key_in_body: true, hide_credentials: true });
      const { body, contentType } = await formWith(['before', '1'], ['apikey', 'secret-1'], ['after', '2']);
      const reply = await post(body, contentType);
      assert.equal(reply.status, 200, reply.text);
      const echo = JSON.parse(reply.text) as FormEcho;
      assert.equal(echo.contentLength, String(echo.bytes));
      assert.deepEqual(echo.fields, [
        ['before', '1'],
        ['after', '2'],
        ['file', { filename: 'pic.png', type: 'image/png', hex: FILE.toString('hex') }],
      ]);
    });

    it('without hide_credentials the body goes upstream unchanged', async () => {
      await startForms({ key_in_body: true });
      const encoded = await formWith(['apikey', 'secret-1']);
      // A preamble and an epilogue, which a rewritten body would not have.
      const body = Buffer.concat([Buffer.from('preamble\r\n'), encoded.body, Buffer.from('epilogue')]);
      const reply = await post(body, encoded.contentType);
      assert.equal(reply.status, 200);
      assert.equal((JSON.parse(reply.text) as FormEcho).sha256, sha256(body));
    });

    it("answers Kong's 401s: an unknown key, the key twice, no key", async () => {
      await startForms({ key_in_body: true });
      const answer = async (...fields: [string, string][]) => {
        const { body, contentType } = await formWith(...fields);
        const reply = await post(body, contentType);
        return [reply.status, (JSON.parse(reply.text) as { message: string }).message];
      };
      assert.deepEqual(await answer(['apikey', 'nope']), [401, 'Unauthorized']);
      assert.deepEqual(await answer(['apikey', 'secret-1'], ['apikey', 'secret-1']), [
        401,
        'Duplicate API key found',
      ]);
      assert.deepEqual(await answer(['other', 'x']), [401, 'No API key found in request']);
    });

    it('reads a malformed multipart body as having no key, as Kong (401, not 400)', async () => {
      await startForms({ key_in_body: true });
      const cases: [string, string][] = [
        [
          '--b\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nsecret-1',
          'multipart/form-data; boundary=b',
        ],
        ['apikey=secret-1', 'multipart/form-data'],
      ];
      for (const [body, contentType] of cases) {
        const reply = await post(body, contentType);
        assert.equal(reply.status, 401);
        assert.deepEqual(JSON.parse(reply.text), { message: 'No API key found in request' });
      }
      // A key elsewhere still authenticates; the unreadable body is passed on as it came.
      const reply = await send(proxy.port, {
        method: 'POST',
        path: '/secure',
        headers: { 'content-type': 'multipart/form-data; boundary=b', apikey: 'secret-1' },
        body: '--b\r\nbroken',
      });
      assert.equal(reply.status, 200);
      assert.equal((JSON.parse(reply.text) as FormEcho).sha256, sha256(Buffer.from('--b\r\nbroken')));
    });

    it('does not look in a multipart body without key_in_body', async () => {
      await startForms({});
      const { body, contentType } = await formWith(['apikey', 'secret-1']);
      assert.equal((await post(body, contentType)).status, 401);
    });
  });

  it('hide_credentials removes the key from the header and the query string', async () => {
    await start({ hide_credentials: true });
    const header = echoOf(
      (await send(proxy.port, { path: '/secure', headers: { apikey: 'secret-1' } })).text,
    );
    assert.equal(header.headers.apikey, undefined);
    const query = echoOf((await send(proxy.port, { path: '/secure?a=1&apikey=secret-1&b=2' })).text);
    assert.equal(query.url, '/secure?a=1&b=2');
  });

  it('key_in_header / key_in_query off: keys there are not looked at', async () => {
    await start({ key_in_header: false });
    assert.equal((await send(proxy.port, { path: '/secure', headers: { apikey: 'secret-1' } })).status, 401);
    assert.equal((await send(proxy.port, { path: '/secure?apikey=secret-1' })).status, 200);
    await proxy.close();
    await start({ key_in_query: false });
    assert.equal((await send(proxy.port, { path: '/secure?apikey=secret-1' })).status, 401);
  });

  it('anonymous: a request without a valid key goes on as the anonymous consumer (by username or id)', async () => {
    await start({ anonymous: 'guest' });
    const reply = await send(proxy.port, { path: '/secure', headers: { apikey: 'wrong' } });
    assert.equal(reply.status, 200);
    const { headers } = echoOf(reply.text);
    assert.equal(headers['x-consumer-id'], GUEST.id);
    assert.equal(headers['x-consumer-username'], 'guest');
    assert.equal(headers['x-anonymous-consumer'], 'true');
    assert.equal(headers['x-credential-identifier'], undefined);
    // A client can't pass itself off as a consumer: the header it sent is replaced/cleared.
    const forged = echoOf(
      (await send(proxy.port, { path: '/secure', headers: { 'x-consumer-custom-id': 'forged' } })).text,
    );
    assert.equal(forged.headers['x-consumer-custom-id'], undefined);

    await proxy.close();
    await start({ anonymous: GUEST.id });
    assert.equal(
      echoOf((await send(proxy.port, { path: '/secure' })).text).headers['x-consumer-id'],
      GUEST.id,
    );

    await proxy.close();
    await start({ anonymous: 'nobody' });
    const missing = await send(proxy.port, { path: '/secure' });
    assert.equal(missing.status, 500);
    assert.deepEqual(JSON.parse(missing.text), {
      message: "anonymous consumer nobody is configured but doesn't exist",
    });
  });

  it('run_on_preflight off lets OPTIONS through without a key', async () => {
    await start({ run_on_preflight: false });
    assert.equal((await send(proxy.port, { method: 'OPTIONS', path: '/secure' })).status, 200);
    assert.equal((await send(proxy.port, { method: 'GET', path: '/secure' })).status, 401);
    await proxy.close();
    await start({});
    assert.equal((await send(proxy.port, { method: 'OPTIONS', path: '/secure' })).status, 401);
  });

  it('scoped to a route: other routes are not authenticated', async () => {
    await start({}, { route: { id: 'route-1' } });
    assert.equal((await send(proxy.port, { path: '/secure' })).status, 401);
    assert.equal((await send(proxy.port, { path: '/open' })).status, 200);
  });

  it('validates its config as Kong does (defaults, key_names required non-empty, header names)', () => {
    const fields = { name: schema.name, fields: schema.config, checks: schema.checks };
    const defaults = validate(fields, {});
    assert.ok(defaults.ok);
    assert.deepEqual(defaults.value, {
      key_names: ['apikey'],
      hide_credentials: false,
      anonymous: null,
      key_in_header: true,
      key_in_query: true,
      key_in_body: false,
      run_on_preflight: true,
      realm: null,
    });
    const empty = validate(fields, { key_names: [] });
    assert.ok(!empty.ok);
    assert.ok(empty.errors.key_names);
    const badName = validate(fields, { key_names: ['bad name'] });
    assert.ok(!badName.ok);
    const badType = validate(fields, { hide_credentials: 'yes' });
    assert.ok(!badType.ok);
    assert.equal(badType.errors.hide_credentials, 'expected a boolean');
    assert.equal(schema.noConsumer, true);
  });
});
