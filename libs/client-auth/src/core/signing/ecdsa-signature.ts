import { SigningKeyError } from '../outgoing/outgoing-errors.js';

const ECDSA_SIGNATURE_BYTES: Readonly<Record<string, number>> = {
  ES256: 64,
  ES384: 96,
  ES512: 132,
};

/**
 * Length in bytes of a JWS ECDSA signature for `alg`: R and S, each as long as the curve order
 * (RFC 7518 §3.4: 32, 48 and 66 bytes for P-256, P-384 and P-521), concatenated.
 */
export function ecdsaSignatureLength(alg: string): number {
  const length = ECDSA_SIGNATURE_BYTES[alg];
  if (length === undefined) throw new RangeError(`not an ECDSA algorithm: ${alg}`);
  return length;
}

function invalid(detail: string): SigningKeyError {
  return new SigningKeyError('signing_failed', `the ECDSA signature is malformed: ${detail}`);
}

/** Reads a DER length at `offset` (short form, or long form with one or two bytes). */
function readLength(der: Uint8Array, offset: number): { length: number; next: number } {
  const first = der[offset];
  if (first === undefined) throw invalid('truncated length');
  if (first < 0x80) return { length: first, next: offset + 1 };
  const bytes = first & 0x7f;
  if (bytes === 0 || bytes > 2 || offset + bytes >= der.length) throw invalid('bad length');
  let length = 0;
  for (let i = 1; i <= bytes; i++) length = (length << 8) | der[offset + i]!;
  // DER uses the shortest form.
  if (length < 0x80 || (bytes === 2 && length < 0x100)) throw invalid('non-minimal length');
  return { length, next: offset + 1 + bytes };
}

/** Reads an ASN.1 INTEGER at `offset`, returning its magnitude without sign padding. */
function readInteger(der: Uint8Array, offset: number): { value: Uint8Array; next: number } {
  if (der[offset] !== 0x02) throw invalid('expected an INTEGER');
  const { length, next } = readLength(der, offset + 1);
  if (length === 0 || next + length > der.length) throw invalid('bad INTEGER length');
  let value = der.subarray(next, next + length);
  if (value[0]! & 0x80) throw invalid('negative INTEGER');
  if (value.length > 1 && value[0] === 0 && !(value[1]! & 0x80)) {
    throw invalid('non-minimal INTEGER');
  }
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  return { value, next: next + length };
}

/**
 * Converts a DER `ECDSA-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`, RFC 3279 §2.2.3 — what
 * most KMS/HSM APIs return) into the JWS form of RFC 7518 §3.4: R and S as fixed-length
 * big-endian octet strings, concatenated.
 */
export function derToJoseSignature(der: Uint8Array, alg: string): Uint8Array {
  const size = ecdsaSignatureLength(alg) / 2;
  if (der[0] !== 0x30) throw invalid('expected a SEQUENCE');
  const { length, next } = readLength(der, 1);
  if (next + length !== der.length) throw invalid('trailing or missing bytes');
  const r = readInteger(der, next);
  const s = readInteger(der, r.next);
  if (s.next !== der.length) throw invalid('trailing bytes in the SEQUENCE');
  if (r.value.length > size || s.value.length > size) throw invalid(`an integer exceeds ${alg}`);
  const out = new Uint8Array(size * 2);
  out.set(r.value, size - r.value.length);
  out.set(s.value, size * 2 - s.value.length);
  return out;
}

/** How a signing callback returns ECDSA signatures. */
export type EcdsaSignatureFormat = 'auto' | 'raw' | 'der';

/**
 * Brings an ECDSA signature from a signing callback into JWS form (RFC 7518 §3.4). `raw`
 * expects R‖S of the exact length; `der` converts a DER `ECDSA-Sig-Value`; `auto` (default)
 * keeps a signature of the exact raw length as it is and converts anything else that parses as
 * DER (a DER signature is never exactly the raw length in practice: it carries 6–9 bytes of
 * framing around integers that are at most the raw size each).
 */
export function normalizeEcdsaSignature(
  signature: Uint8Array,
  alg: string,
  format: EcdsaSignatureFormat = 'auto',
): Uint8Array {
  const rawLength = ecdsaSignatureLength(alg);
  if (format === 'raw' || (format === 'auto' && signature.length === rawLength)) {
    if (signature.length !== rawLength) {
      throw invalid(`expected ${rawLength} bytes (R‖S) for ${alg}, got ${signature.length}`);
    }
    return signature;
  }
  return derToJoseSignature(signature, alg);
}
