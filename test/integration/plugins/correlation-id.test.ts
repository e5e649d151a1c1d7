// correlation-id through a real proxy: the id header upstream (kept when the client sent one), each
// generator's format, echo_downstream, scoping, and its config validation.
import assert from 'node:assert/strict';
import { schema } from '../../../src/core/plugins/correlation-id/schema.js';
import { BUNDLED_HANDLERS } from '../../../src/core/plugins/handlers.js';
import { validate } from '../../../src/core/schema/schema.js';
import {
  send,
  serviceConfig,
  proxySuite,
  type Echo,
  type TestProxy,
  pluginEntity,
} from '../../helpers/proxy.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('plugin: correlation-id', () => {
  const { upstream, startProxy } = proxySuite();
  let proxy: TestProxy;

  const start = async (config: Record<string, unknown>, scope: Record<string, unknown> = {}) =>
    (proxy = await startProxy({
      plugins: BUNDLED_HANDLERS,
      config: serviceConfig(
        { host: '127.0.0.1', port: upstream.port },
        [
          { id: 'route-1', paths: ['/one'] },
          { id: 'route-2', paths: ['/two'] },
        ],
        {
          plugins: [pluginEntity('correlation-id', config, scope)],
        },
      ),
    }));
  const upstreamSaw = async (headers: Record<string, string> = {}, path = '/one') => {
    const reply = await send(proxy.port, { path, headers });
    return { reply, echo: JSON.parse(reply.text) as Echo };
  };

  it('defaults: Kong-Request-ID with uuid#counter upstream, not echoed', async () => {
    await start({});
    const first = await upstreamSaw();
    const second = await upstreamSaw();
    const a = String(first.echo.headers['kong-request-id']);
    const b = String(second.echo.headers['kong-request-id']);
    assert.match(a, new RegExp(`^${UUID}#\\d+$`));
    assert.equal(a.split('#')[0], b.split('#')[0]);
    assert.equal(Number(b.split('#')[1]), Number(a.split('#')[1]) + 1);
    assert.equal(first.reply.headers['kong-request-id'], undefined);
  });

  it('keeps an id the client sent, and echoes it downstream when asked', async () => {
    await start({ header_name: 'X-Correlation', generator: 'uuid', echo_downstream: true });
    const kept = await upstreamSaw({ 'x-correlation': 'from-client' });
    assert.equal(kept.echo.headers['x-correlation'], 'from-client');
    assert.equal(kept.reply.headers['x-correlation'], 'from-client');
    const made = await upstreamSaw();
    assert.match(String(made.echo.headers['x-correlation']), new RegExp(`^${UUID}$`));
    assert.equal(made.reply.headers['x-correlation'], made.echo.headers['x-correlation']);
  });

  it('tracker: server address, port, pid, connection serial, requests, time', async () => {
    await start({ generator: 'tracker' });
    const { echo } = await upstreamSaw();
    const id = String(echo.headers['kong-request-id']);
    assert.match(id, new RegExp(`^127\\.0\\.0\\.1-${proxy.port}-${process.pid}-\\d+-1-\\d+\\.\\d{3}$`));
  });

  it('scoped to a route: other routes get no id', async () => {
    await start({}, { route: { id: 'route-2' } });
    assert.equal((await upstreamSaw({}, '/one')).echo.headers['kong-request-id'], undefined);
    assert.ok((await upstreamSaw({}, '/two')).echo.headers['kong-request-id']);
  });

  it('validates its config as Kong does', () => {
    const fields = { name: schema.name, fields: schema.config };
    const defaults = validate(fields, {});
    assert.ok(defaults.ok);
    assert.deepEqual(defaults.value, {
      header_name: 'Kong-Request-ID',
      generator: 'uuid#counter',
      echo_downstream: false,
    });
    const bad = validate(fields, { generator: 'random' });
    assert.ok(!bad.ok);
    assert.equal(bad.errors.generator, 'expected one of: uuid, uuid#counter, tracker');
  });
});
