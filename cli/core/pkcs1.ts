import { constants, createPrivateKey, KeyObject, privateDecrypt } from 'node:crypto';
import { CliError } from './errors';

/**
 * Decrypting EC2's password data: base64 of the Administrator password encrypted with the key
 * pair's public key, RSA PKCS#1 v1.5 (RSAES-PKCS1-v1_5, RFC 8017 §7.2).
 *
 * Node 20.11+ refuses `privateDecrypt` with `RSA_PKCS1_PADDING` (CVE-2023-46809, the Marvin
 * timing attack) unless OpenSSL does implicit rejection or node runs with
 * `--security-revert=CVE-2023-46809`. So the RSA operation is done raw (`RSA_NO_PADDING`) and the
 * padding is removed here. The timing attack needs an attacker who can submit many ciphertexts
 * to this decryption and time it; this is a one-shot local decryption of the operator's own
 * data, so no oracle exists. The key never leaves the process.
 */

/** Reads a PEM private key (PKCS#1 or PKCS#8); anything else is `KeyFileUnreadable`. */
export function readRsaPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new CliError('KeyFileUnreadable', `The key file cannot be used: ${unreadableReason(pem, err)}.`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CliError('KeyFileUnreadable', `The key is ${key.asymmetricKeyType}, not RSA: Windows instances only support RSA key pairs.`);
  }
  return key;
}

/** Why Node cannot read a key, and the one command that converts it, for the formats operators meet. */
function unreadableReason(pem: string, err: unknown): string {
  // ssh-keygen's default format since OpenSSH 7.8 (a key pair imported into EC2 is often one); Node reads PEM only.
  if (pem.includes('BEGIN OPENSSH PRIVATE KEY')) {
    return 'it is in OpenSSH format ("BEGIN OPENSSH PRIVATE KEY"), which is not PEM; convert a copy to PEM with ' +
      'ssh-keygen -p -m PEM -f <copy of the key> (it rewrites that file; keep the passphrase empty)';
  }
  if (pem.startsWith('PuTTY-User-Key-File')) {
    return 'it is a PuTTY key (.ppk); export it as PEM with puttygen key.ppk -O private-openssh -o key.pem';
  }
  if (/ENCRYPTED/.test(pem) || (err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') {
    return 'it is protected by a passphrase; remove it from a copy (openssl rsa -in key.pem -out plain.pem)';
  }
  return 'it is not a PEM private key';
}

/**
 * Removes the RSAES-PKCS1-v1_5 encryption padding from a decrypted block `EM`:
 * `0x00 || 0x02 || PS (at least 8 non-zero bytes) || 0x00 || M`. A block of any other shape
 * means the key did not encrypt this data (`KeyMismatch`).
 */
export function pkcs1v15Unpad(block: Uint8Array): Buffer {
  const mismatch = () => new CliError('KeyMismatch', 'The key does not decrypt this password data: it is not the key pair the instance was launched with.');
  if (block.length < 11 || block[0] !== 0x00 || block[1] !== 0x02) throw mismatch();
  const separator = block.indexOf(0x00, 2);
  // PS must be at least 8 bytes: the separator comes at index 10 or later.
  if (separator < 10) throw mismatch();
  return Buffer.from(block.subarray(separator + 1));
}

/** Decrypts base64 `passwordData` with `key` (a PEM string or a key object) and returns the password. */
export function decryptPasswordData(passwordData: string, key: string | KeyObject): string {
  const privateKey = typeof key === 'string' ? readRsaPrivateKey(key) : key;
  const ciphertext = Buffer.from(passwordData.trim(), 'base64');
  const modulusBytes = Math.ceil((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (ciphertext.length === 0 || ciphertext.length !== modulusBytes) {
    throw new CliError('KeyMismatch', `The password data is ${ciphertext.length} bytes but the key's modulus is ${modulusBytes}: ` +
      'it is not the key pair the instance was launched with.');
  }
  let block: Buffer;
  try {
    block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext);
  } catch {
    throw new CliError('KeyMismatch', 'The key does not decrypt this password data: it is not the key pair the instance was launched with.');
  }
  return pkcs1v15Unpad(block).toString('utf8');
}
