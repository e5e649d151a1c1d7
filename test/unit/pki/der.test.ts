// The DER encoder behind gen_cert, byte for byte against known encodings.
import assert from 'node:assert/strict';
import { objectIdentifier, sequence, time, unsignedInteger } from '../../../src/core/pki/der.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('DER encoder', () => {
  it('encodes object identifiers, including multi-byte arcs', () => {
    assert.equal(hex(objectIdentifier('2.5.4.3')), '0603550403');
    assert.equal(hex(objectIdentifier('1.2.840.10045.4.3.3')), '06082a8648ce3d040303');
  });

  it('encodes non-negative integers minimally, padding a high bit', () => {
    assert.equal(hex(unsignedInteger(Buffer.from([2]))), '020102');
    assert.equal(hex(unsignedInteger(Buffer.from([0, 0, 0x7f]))), '02017f');
    assert.equal(hex(unsignedInteger(Buffer.from([0x80]))), '02020080');
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280)', () => {
    assert.equal(time(new Date('2049-12-31T23:59:59Z')).toString('latin1', 2), '491231235959Z');
    assert.equal(time(new Date('2049-12-31T23:59:59Z'))[0], 0x17);
    assert.equal(time(new Date('2050-01-01T00:00:00Z')).toString('latin1', 2), '20500101000000Z');
    assert.equal(time(new Date('2050-01-01T00:00:00Z'))[0], 0x18);
  });

  it('uses long-form lengths past 127 bytes', () => {
    const long = sequence(Buffer.alloc(300));
    assert.equal(hex(long.subarray(0, 4)), '3082012c');
    assert.equal(long.length, 304);
  });
});
