// OCSP against real `openssl ocsp` responders on 127.0.0.1: good, revoked, unknown, delegated, rogue, down, hanging.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseCertificate, type ParsedCertificate } from '../../../src/core/pki/certificate.js';
import { checkOcsp, ocspFinding } from '../../../src/core/pki/ocsp.js';
import {
  OpensslPki,
  startOcspResponder,
  type Issued,
  type OcspResponder,
} from '../../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';

const parsed = (c: Issued): ParsedCertificate => parseCertificate(c.certPem);

describe('OCSP client against openssl ocsp', function () {
  this.timeout(60_000);
  let cleanup: () => Promise<void>;
  const responders: OcspResponder[] = [];
  let hangServer: Server | undefined;
  const hangSockets: Socket[] = [];
  let int: Issued;
  const certs: Record<string, Issued> = {};
  const ports: Record<string, number> = {};

  before(async function () {
    const tmp = await makeTempDir('hybrid-ocsp-');
    cleanup = tmp.cleanup;
    const pki = await OpensslPki.create(tmp.dir);
    for (const name of ['main', 'delegated', 'rogue', 'down', 'hang']) ports[name] = await freePort();
    const url = (name: string) => `http://127.0.0.1:${ports[name]}`;

    const root = await pki.root({ name: 'root' });
    // An intermediate issues the DPs, so the responder serves a CA that is not the trust anchor.
    int = await pki.intermediate(root, { name: 'int' });
    certs.good = await pki.leaf(int, 'dp', { name: 'good', ocspUrl: url('main') });
    certs.revoked = await pki.leaf(int, 'dp', { name: 'revoked', ocspUrl: url('main') });
    certs.unknown = await pki.leaf(int, 'dp', { name: 'unknown', ocspUrl: url('main') });
    certs.viaDelegated = await pki.leaf(int, 'dp', { name: 'via-delegated', ocspUrl: url('delegated') });
    certs.viaRogue = await pki.leaf(int, 'dp', { name: 'via-rogue', ocspUrl: url('rogue') });
    certs.down = await pki.leaf(int, 'dp', { name: 'down', ocspUrl: url('down') });
    certs.hang = await pki.leaf(int, 'dp', { name: 'hang', ocspUrl: url('hang') });
    certs.noAia = await pki.leaf(int, 'dp', { name: 'no-aia' });
    const delegatedSigner = await pki.leaf(int, 'dp', { name: 'ocsp-signer', eku: ['OCSPSigning'] });
    // A certificate from the same CA, but without OCSPSigning: it must not be able to vouch for others.
    const rogueSigner = await pki.leaf(int, 'dp', { name: 'rogue-signer', eku: ['clientAuth'] });

    await pki.revoke(certs.revoked);
    // A serial the CA's database does not list: the responder answers "unknown".
    const index = join(int.caDir, 'index.txt');
    const serial = parsed(certs.unknown).x509.serialNumber.toUpperCase();
    const lines = (await readFile(index, 'utf8')).split('\n').filter((l) => !l.includes(`\t${serial}\t`));
    await writeFile(index, lines.join('\n'));

    responders.push(await startOcspResponder(int, ports.main as number));
    responders.push(await startOcspResponder(int, ports.delegated as number, delegatedSigner));
    responders.push(await startOcspResponder(int, ports.rogue as number, rogueSigner));
    // Accepts connections and never answers, to exercise the timeout.
    hangServer = createServer((socket) => hangSockets.push(socket));
    await new Promise<void>((resolve) => hangServer?.listen(ports.hang, '127.0.0.1', resolve));
  });

  after(async () => {
    for (const responder of responders) await responder.stop();
    for (const socket of hangSockets) socket.destroy();
    await new Promise((resolve) => (hangServer ? hangServer.close(resolve) : resolve(undefined)));
    await cleanup?.();
  });

  const ask = (name: string, timeoutMs?: number) =>
    checkOcsp({
      cert: parsed(certs[name] as Issued),
      issuer: parsed(int),
      ...(timeoutMs ? { timeoutMs } : {}),
    });

  it('good: a CA-signed answer, with nextUpdate for caching', async () => {
    const result = await ask('good');
    assert.equal(result.status, 'good', JSON.stringify(result));
    assert.ok(result.status === 'good' && result.nextUpdate && result.nextUpdate > new Date());
    assert.equal(ocspFinding(result, 'on').severity, 'ok');
  });

  it('revoked: reported with its revocation time, and rejected even under optional', async () => {
    const result = await ask('revoked');
    assert.equal(result.status, 'revoked', JSON.stringify(result));
    assert.ok(result.status === 'revoked' && result.revokedAt instanceof Date);
    assert.equal(ocspFinding(result, 'on').code, 'ocsp_revoked');
    assert.equal(ocspFinding(result, 'optional').severity, 'error');
  });

  it('unknown: the responder does not know the serial', async () => {
    const result = await ask('unknown');
    assert.equal(result.status, 'unknown', JSON.stringify(result));
    assert.equal(ocspFinding(result, 'on').severity, 'error');
    assert.equal(ocspFinding(result, 'optional').severity, 'warning');
  });

  it('accepts a delegated responder with OCSPSigning issued by the CA', async () => {
    const result = await ask('viaDelegated');
    assert.equal(result.status, 'good', JSON.stringify(result));
  });

  it('rejects an answer signed by a certificate without OCSPSigning (rogue responder)', async () => {
    const result = await ask('viaRogue');
    assert.equal(result.status, 'bad_response', JSON.stringify(result));
    assert.equal(ocspFinding(result, 'on').code, 'ocsp_bad_response');
  });

  it('responder down: unreachable, an error under on and a warning under optional', async () => {
    const result = await ask('down');
    assert.equal(result.status, 'unreachable', JSON.stringify(result));
    assert.match(result.status === 'unreachable' ? result.reason : '', /ECONNREFUSED/);
    assert.equal(ocspFinding(result, 'on').code, 'ocsp_unreachable');
    assert.equal(ocspFinding(result, 'on').severity, 'error');
    assert.equal(ocspFinding(result, 'optional').severity, 'warning');
  });

  it('responder that never answers: unreachable after the timeout', async () => {
    const started = Date.now();
    const result = await ask('hang', 300);
    assert.deepEqual(result, {
      status: 'unreachable',
      url: `http://127.0.0.1:${ports.hang}`,
      reason: 'timed out',
    });
    assert.ok(Date.now() - started < 3_000);
  });

  it('no AIA OCSP URL: no_responder', async () => {
    const result = await ask('noAia');
    assert.deepEqual(result, { status: 'no_responder' });
    assert.equal(ocspFinding(result, 'on').code, 'ocsp_no_responder');
    assert.equal(ocspFinding(result, 'optional').severity, 'warning');
  });

  it('asking with the wrong issuer gets no trusted answer', async () => {
    const result = await checkOcsp({
      cert: parsed(certs.good as Issued),
      issuer: parsed(certs.noAia as Issued),
    });
    assert.notEqual(result.status, 'good', JSON.stringify(result));
  });
});
