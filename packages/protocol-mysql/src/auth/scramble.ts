// Password proofs of mysql_native_password and caching_sha2_password, both directions.
import { constants, createHash, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual } from 'node:crypto';

const sha1 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};
const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i % b.length]!;
  return out;
}

/** 20 bytes of nonce in the printable range, never NUL (the handshake NUL-terminates it). */
export function newScramble(): Buffer {
  const bytes = randomBytes(20);
  for (let i = 0; i < bytes.length; i++) bytes[i] = 0x21 + (bytes[i]! % 94);
  return bytes;
}

/** Client proof for mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))). */
export function nativePasswordToken(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  return xor(stage1, sha1(scramble.subarray(0, 20), sha1(stage1)));
}

/** Server check of a mysql_native_password proof against the stored SHA1(SHA1(pw)). */
export function verifyNativePassword(token: Buffer, scramble: Buffer, stored: Buffer): boolean {
  if (token.length !== 20) return false;
  const candidateStage1 = xor(token, sha1(scramble.subarray(0, 20), stored));
  return timingSafeEqual(sha1(candidateStage1), stored);
}

/** Client proof for caching_sha2_password: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble). */
export function cachingSha2Token(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha256(Buffer.from(password, 'utf8'));
  return xor(stage1, sha256(sha256(stage1), scramble.subarray(0, 20)));
}

/** Server check of the caching_sha2_password fast path against the stored SHA256(SHA256(pw)). */
export function verifyCachingSha2(token: Buffer, scramble: Buffer, stored: Buffer): boolean {
  if (token.length !== 32) return false;
  const candidateStage1 = xor(token, sha256(stored, scramble.subarray(0, 20)));
  return timingSafeEqual(sha256(candidateStage1), stored);
}

/** The password as caching_sha2 / sha256 send it over RSA: (pw + NUL) XOR scramble, OAEP-encrypted. */
export function rsaEncryptPassword(password: string, scramble: Buffer, publicKeyPem: string): Buffer {
  const plain = xor(Buffer.from(`${password}\0`, 'utf8'), scramble.subarray(0, 20));
  return publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, plain);
}

/** Inverse of rsaEncryptPassword on the server side; undefined when the ciphertext is not valid. */
export function rsaDecryptPassword(cipher: Buffer, scramble: Buffer, privateKeyPem: string): string | undefined {
  try {
    const plain = xor(privateDecrypt({ key: privateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, cipher), scramble.subarray(0, 20));
    const end = plain.indexOf(0);
    return plain.subarray(0, end < 0 ? plain.length : end).toString('utf8');
  } catch {
    return undefined;
  }
}

/** A cleartext password as sent by mysql_clear_password / full auth over TLS (NUL-terminated). */
export function cleartextOf(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end < 0 ? data.length : end).toString('utf8');
}
