// Certificate choice by server name from `certificates` + `snis`: exact, then `*.rest`, then `name.*`.
import assert from 'node:assert/strict';
import { generateSelfSigned } from '../../../src/core/pki/self-signed.js';
import { buildSniCertificates } from '../../../src/core/proxy/certificates.js';

describe('proxy SNI certificates', () => {
  const exact = generateSelfSigned('exact', 30);
  const wild = generateSelfSigned('wild', 30);
  const certs = buildSniCertificates({
    certificates: [
      { id: 'a', cert: exact.certPem, key: exact.keyPem },
      { id: 'b', cert: wild.certPem, key: wild.keyPem },
    ],
    snis: [
      { id: '1', name: 'api.example.com', certificate: { id: 'a' } },
      { id: '2', name: '*.example.com', certificate: { id: 'b' } },
      { id: '3', name: 'shop.example.*', certificate: { id: 'a' } },
      { id: '4', name: 'dangling.example', certificate: { id: 'missing' } },
    ],
  });

  it('prefers the exact name, then the wildcards, else none', () => {
    assert.equal(certs.count, 3);
    const forExact = certs.contextFor('API.example.com');
    const forWild = certs.contextFor('www.example.com');
    assert.ok(forExact && forWild && forExact !== forWild);
    assert.equal(certs.contextFor('shop.example.net'), forExact);
    assert.equal(certs.contextFor('a.b.example.com'), null, 'a wildcard covers one label');
    assert.equal(certs.contextFor('dangling.example'), null);
    assert.equal(certs.contextFor(''), null);
  });

  it('makes one context per certificate', () => {
    assert.equal(certs.contextFor('api.example.com'), certs.contextFor('shop.example.org'));
  });
});
