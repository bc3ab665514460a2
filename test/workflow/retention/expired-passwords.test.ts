import { chunks, expiredPasswordParameters, retentionSecondsFrom } from '../../../src/workflow/retention/expired-passwords';

const NOW = new Date('2026-05-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3600_000);

describe('expiredPasswordParameters', () => {
  test('returns the password parameters older than the retention, and only those', () => {
    // GIVEN
    const listed = [
      { name: '/EC2Rescue/Passwords/i-0123456789abcdef0', lastModifiedDate: hoursAgo(25) },
      { name: '/EC2Rescue/Passwords/i-0fedcba9876543210', lastModifiedDate: hoursAgo(23) },
      { name: '/EC2Rescue/Passwords/i-12345678', lastModifiedDate: hoursAgo(100) },
    ];

    // WHEN
    const expired = expiredPasswordParameters(listed, NOW, 24 * 3600);

    // THEN
    expect(expired).toEqual(['/EC2Rescue/Passwords/i-0123456789abcdef0', '/EC2Rescue/Passwords/i-12345678']);
  });

  test('never returns a parameter that is not an instance id under the password path, or of unknown age', () => {
    // GIVEN
    const old = hoursAgo(1000);
    const listed = [
      { name: '/EC2Rescue/Passwords/i-0123456789abcdef0/extra', lastModifiedDate: old },
      { name: '/EC2Rescue/Passwords/i-backup', lastModifiedDate: old },
      { name: '/EC2Rescue/Passwords/notes', lastModifiedDate: old },
      { name: '/Other/Passwords/i-0123456789abcdef0', lastModifiedDate: old },
      { name: '/EC2Rescue/Passwords/i-0123456789abcdef0' },
      { lastModifiedDate: old },
    ];

    // WHEN / THEN
    expect(expiredPasswordParameters(listed, NOW, 3600)).toEqual([]);
  });

  test('keeps a parameter exactly at the retention', () => {
    expect(expiredPasswordParameters([{ name: '/EC2Rescue/Passwords/i-0123456789abcdef0', lastModifiedDate: hoursAgo(24) }], NOW, 24 * 3600)).toEqual([]);
  });
});

describe('retentionSecondsFrom', () => {
  test.each([undefined, '', 'abc', '0', '-5', '1.5'])('refuses %p', value => {
    expect(() => retentionSecondsFrom(value)).toThrow(/PASSWORD_RETENTION_SECONDS must be a positive whole number/);
  });

  test('parses whole seconds', () => {
    expect(retentionSecondsFrom('86400')).toBe(86400);
  });
});

describe('chunks', () => {
  test('splits into groups of at most the size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 10)).toEqual([]);
  });
});
