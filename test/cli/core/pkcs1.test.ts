import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { decryptPasswordData, pkcs1v15Unpad, readRsaPrivateKey } from '../../../cli/core/pkcs1';

/** A throwaway key pair, as EC2 creates them (RSA 2048), in both PEM encodings the CLI accepts. */
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs1Pem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const pkcs8Pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** What EC2 does: RSAES-PKCS1-v1_5 with the key pair's public key, base64. (publicEncrypt still allows this padding.) */
function ec2PasswordData(password: string, publicKey = pair.publicKey): string {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(password, 'utf8')).toString('base64');
}

describe('decryptPasswordData', () => {
  test('decrypts EC2 password data with a PKCS#1 ("BEGIN RSA PRIVATE KEY") key, as EC2 key pairs are', () => {
    // GIVEN
    expect(pkcs1Pem).toContain('BEGIN RSA PRIVATE KEY');
    const data = ec2PasswordData('Xy7$kP2;mQ9!wR4z');

    // WHEN
    const password = decryptPasswordData(data, pkcs1Pem);

    // THEN
    expect(password).toBe('Xy7$kP2;mQ9!wR4z');
  });

  test('decrypts with a PKCS#8 key too, and with non-ASCII passwords', () => {
    // GIVEN
    const data = ec2PasswordData('Pässwörd—42');

    // WHEN / THEN
    expect(decryptPasswordData(data, pkcs8Pem)).toBe('Pässwörd—42');
  });

  test('works for every random padding (each encryption pads differently)', () => {
    for (let i = 0; i < 25; i++) {
      const password = `p${i}-${'x'.repeat(i)}`;
      expect(decryptPasswordData(ec2PasswordData(password), pkcs1Pem)).toBe(password);
    }
  });

  test('another key pair\'s data is a KeyMismatch, not garbage', () => {
    // GIVEN
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = ec2PasswordData('secret', other.publicKey);

    // WHEN / THEN
    expect(() => decryptPasswordData(data, pkcs1Pem)).toThrow(expect.objectContaining({ name: 'KeyMismatch' }));
  });

  test('data of the wrong length (a 4096-bit key\'s, or truncated) is a KeyMismatch', () => {
    // GIVEN
    const big = generateKeyPairSync('rsa', { modulusLength: 4096 });
    const data = ec2PasswordData('secret', big.publicKey);

    // WHEN / THEN
    expect(() => decryptPasswordData(data, pkcs1Pem)).toThrow(/modulus/);
    expect(() => decryptPasswordData(data.slice(0, 40), pkcs1Pem)).toThrow(expect.objectContaining({ name: 'KeyMismatch' }));
  });
});

describe('readRsaPrivateKey', () => {
  test('refuses what is not an RSA private key, saying why', () => {
    // GIVEN
    const ec = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const encrypted = pair.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();

    // WHEN / THEN
    expect(() => readRsaPrivateKey('PuTTY-User-Key-File-3: ssh-rsa')).toThrow(expect.objectContaining({ name: 'KeyFileUnreadable' }));
    expect(() => readRsaPrivateKey('PuTTY-User-Key-File-3: ssh-rsa')).toThrow(/puttygen key.ppk -O private-openssh -o key.pem/);
    expect(() => readRsaPrivateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----\n'))
      .toThrow(/OpenSSH format .* ssh-keygen -p -m PEM -f <copy of the key>/);
    expect(() => readRsaPrivateKey(ec)).toThrow(/ed25519, not RSA/);
    expect(() => readRsaPrivateKey(encrypted)).toThrow(/passphrase/);
  });
});

describe('pkcs1v15Unpad', () => {
  const block = (...bytes: number[]) => Uint8Array.from(bytes);
  const ps = Array(8).fill(0xff);

  test('returns the message after 00 02 PS 00', () => {
    expect(pkcs1v15Unpad(block(0x00, 0x02, ...ps, 0x00, 0x41, 0x42)).toString()).toBe('AB');
    expect(pkcs1v15Unpad(block(0x00, 0x02, ...ps, 0x00)).toString()).toBe('');
  });

  test.each([
    ['a wrong first byte', [0x01, 0x02, ...ps, 0x00, 0x41]],
    ['a signature block type (01)', [0x00, 0x01, ...ps, 0x00, 0x41]],
    ['a padding string shorter than 8 bytes', [0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x41, 0x42]],
    ['no separator', [0x00, 0x02, ...ps, 0xff, 0x41]],
    ['a block too short', [0x00, 0x02, 0x00]],
  ])('refuses %s as a KeyMismatch', (_, bytes) => {
    expect(() => pkcs1v15Unpad(block(...bytes))).toThrow(expect.objectContaining({ name: 'KeyMismatch' }));
  });
});
