import assert from 'node:assert/strict';
import ipRestriction, { type IpRestrictionConfig } from '../../../src/core/plugins/ip-restriction/handler.js';
import { schema } from '../../../src/core/plugins/ip-restriction/schema.js';
import { fakeContext } from '../../helpers/plugin-context.js';
import { pluginConfig } from '../../helpers/plugin-config.js';

/** The answer for a client at `clientIp`: null when the request goes on. */
async function answer(settings: Record<string, unknown>, clientIp: string) {
  const config = pluginConfig<IpRestrictionConfig>(schema, settings);
  const instance = await ipRestriction.init!({
    config,
    pluginId: 'p',
    log: { debug() {}, info() {}, warn() {}, error() {} },
    node: { id: 'n', version: '0' },
  });
  const ctx = fakeContext({ config, clientIp });
  await instance.access!(ctx);
  return ctx.exited;
}

const allowedFor = async (settings: Record<string, unknown>, ips: string[]) =>
  Promise.all(ips.map(async (ip) => (await answer(settings, ip)) === null));

describe('ip-restriction plugin', () => {
  it('declares Kong priority 990 and its schema', () => {
    assert.equal(ipRestriction.priority, 990);
    assert.equal(ipRestriction.schema, schema);
  });

  it("refuses a denied client with Kong's 403 answer", async () => {
    assert.deepEqual(await answer({ deny: ['10.0.0.0/8'] }, '10.2.3.4'), {
      status: 403,
      body: { message: 'Your IP address is not allowed' },
      headers: {},
    });
  });

  it('deny: IPv4 and IPv6 addresses and CIDR ranges; everyone else passes', async () => {
    const deny = { deny: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1'] };
    assert.deepEqual(
      await allowedFor(deny, [
        '10.255.0.1',
        '11.0.0.1',
        '192.168.1.7',
        '192.168.1.8',
        '2001:db8:1::5',
        '2001:db9::1',
        '::1',
      ]),
      [false, true, false, true, false, true, false],
    );
  });

  it('allow: only listed addresses and ranges pass', async () => {
    const allow = { allow: ['127.0.0.1', '172.16.0.0/12', 'fd00::/8'] };
    assert.deepEqual(
      await allowedFor(allow, [
        '127.0.0.1',
        '127.0.0.2',
        '172.31.255.255',
        '172.32.0.0',
        'fd12::1',
        'fe80::1',
      ]),
      [true, false, true, false, true, false],
    );
  });

  it('an address on both lists is refused (deny is checked first)', async () => {
    assert.deepEqual(
      await allowedFor({ allow: ['10.0.0.0/8'], deny: ['10.0.0.5'] }, ['10.0.0.4', '10.0.0.5']),
      [true, false],
    );
  });

  it('a client in IPv4-mapped IPv6 form is matched as IPv4', async () => {
    assert.deepEqual(await allowedFor({ deny: ['10.0.0.0/8'] }, ['::ffff:10.1.2.3', '::ffff:11.1.2.3']), [
      false,
      true,
    ]);
  });

  it('answers with the configured status and message', async () => {
    const exited = await answer({ allow: ['10.0.0.1'], status: 401, message: 'Go away' }, '10.0.0.2');
    assert.equal(exited?.status, 401);
    assert.deepEqual(exited?.body, { message: 'Go away' });
  });

  it('refuses a client whose address is unknown (unix socket)', async () => {
    const exited = await answer({ deny: ['10.0.0.1'] }, '');
    assert.equal(exited?.status, 403);
    assert.deepEqual(exited?.body, {
      message: 'Cannot identify the client IP address, unix domain sockets are not supported.',
    });
  });

  it('the schema refuses a malformed entry and an empty configuration', () => {
    assert.throws(() => pluginConfig(schema, { allow: ['10.0.0.0/33'] }), /invalid ip or cidr range/);
    assert.throws(() => pluginConfig(schema, {}), /at least one of these fields must be non-empty/);
  });
});
