// Resident passwords: verified against scrypt hashes written by dexin/identity_provider.py.
// Format: scrypt$<N>$<r>$<p>$<salt, base64url>$<key, base64url>; the config never holds a
// plain password.
import { scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt);

export function parseHash(encoded) {
  const parts = String(encoded).split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    throw new TypeError('password hash: expected scrypt$N$r$p$salt$key');
  }
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every(Number.isSafeInteger)) throw new TypeError('password hash: bad cost');
  return {
    N, r, p, salt: Buffer.from(parts[4], 'base64url'), key: Buffer.from(parts[5], 'base64url'),
  };
}

export async function verifyPassword(password, hash) {
  const derived = await scryptAsync(String(password).normalize('NFC'), hash.salt, hash.key.length, {
    N: hash.N, r: hash.r, p: hash.p, maxmem: 256 * hash.N * hash.r,
  });
  return timingSafeEqual(derived, hash.key);
}
