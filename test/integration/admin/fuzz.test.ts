// 1,000 malformed requests: never a 5xx, the server stays up, and the store is exactly as before.
import assert from 'node:assert/strict';
import { adminEngines, startTestAdmin, type TestAdmin } from '../../helpers/admin.js';
import { fuzzCases } from './fuzz-cases.js';

const SEED = Number(process.env.ADMIN_FUZZ_SEED ?? 20261126);
const COUNT = 1000;

for (const engine of adminEngines()) {
  describe(`Admin API fuzz (${engine})`, function () {
    this.timeout(120_000);
    let t: TestAdmin;
    const existing = {
      services: [] as string[],
      routes: [] as string[],
      consumers: [] as string[],
      upstreams: [] as string[],
      plugins: [] as string[],
    };

    before(async () => {
      t = await startTestAdmin(engine);
      for (let i = 0; i < 3; i++) {
        const svc = await t.http.post('/services', { name: `seed-svc-${i}`, host: `s${i}.example` });
        const route = await t.http.post(`/services/seed-svc-${i}/routes`, {
          name: `seed-route-${i}`,
          paths: [`/s${i}`],
        });
        const consumer = await t.http.post('/consumers', { username: `seed-user-${i}` });
        const upstream = await t.http.post('/upstreams', { name: `seed-up-${i}` });
        const plugin = await t.http.post(`/routes/seed-route-${i}/plugins`, { name: 'cors', tags: ['seed'] });
        for (const res of [svc, route, consumer, upstream, plugin]) assert.equal(res.status, 201, res.text);
        existing.services.push(`seed-svc-${i}`, (svc.json as { id: string }).id);
        existing.routes.push(`seed-route-${i}`, (route.json as { id: string }).id);
        existing.consumers.push(`seed-user-${i}`, (consumer.json as { id: string }).id);
        existing.upstreams.push(`seed-up-${i}`);
        existing.plugins.push((plugin.json as { id: string }).id);
      }
    });
    after(() => t?.stop());

    it(`answers ${COUNT} malformed requests (seed ${SEED}) without a 5xx or a change`, async () => {
      const before = await t.store.snapshot();
      const cases = fuzzCases(SEED, COUNT, { existing });
      const statuses = new Map<number, number>();
      for (const [i, request] of cases.entries()) {
        let status: number;
        try {
          status = (await t.http.send(request)).status;
        } catch (err) {
          // The server may close the connection after refusing an oversized body; it must still be up.
          if (!(request.body && request.body.length > 10 * 1024 * 1024))
            throw new Error(`case ${i} ${request.method} ${request.path}: ${String(err)}`);
          status = 413;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        assert.ok(status < 500, `case ${i}: ${request.method} ${request.path} answered ${status}`);
        if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS')
          assert.ok(
            status >= 400 || status === 204,
            `case ${i}: ${request.method} ${request.path} was accepted (${status})`,
          );
      }
      const after = await t.store.snapshot();
      assert.equal(after.version, before.version, 'the config version moved');
      assert.deepEqual(after.entities, before.entities);
      assert.equal((await t.http.get('/status')).status, 200);
      // Every class of refusal was exercised.
      for (const status of [400, 404, 405, 413, 415])
        assert.ok(statuses.has(status), `no ${status} among ${[...statuses.keys()]}`);
    });
  });
}
