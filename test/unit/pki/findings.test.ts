// The finding catalogue: hints where an operator must act, and docs/pki.md listing exactly the codes that exist.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FINDINGS, finding, firstError, hasErrors } from '../../../src/core/pki/index.js';

const DOC = readFileSync(new URL('../../../docs/pki.md', import.meta.url), 'utf8');

describe('PKI finding catalogue', () => {
  it('every problem carries a hint and every passed check none', () => {
    for (const [code, { severity, hint }] of Object.entries(FINDINGS)) {
      if (severity === 'ok') assert.equal(hint, '', code);
      else assert.ok(hint.length > 20, `${code} needs a hint`);
    }
  });

  it('docs/pki.md lists exactly the codes of the catalogue, with their severity', () => {
    const rows = [...DOC.matchAll(/^\| `([a-z_]+)` \| (ok|warning|error) \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      rows,
      Object.entries(FINDINGS).map(([code, { severity }]) => [code, severity]),
    );
  });

  it('builds findings with the catalogue severity and tells errors apart', () => {
    const ok = finding('chain_ok', 'fine');
    const warn = finding('cert_expiring_soon', 'soon', 'CN=x');
    const bad = finding('eku_wrong', 'wrong');
    assert.deepEqual(ok, { code: 'chain_ok', severity: 'ok', message: 'fine' });
    assert.equal(warn.subject, 'CN=x');
    assert.equal(hasErrors([ok, warn]), false);
    assert.equal(hasErrors([ok, bad]), true);
    assert.equal(firstError([ok, warn, bad]), bad);
  });
});
