import { sameDevice, normalizeDevice } from '../../../src/workflow/private/device-names';
import { chooseHelperImageParameter } from '../../../src/workflow/private/helper-image';
import { AMI_NAME_PATTERN, backupImageName, imageDateStamp, passwordEnabledImageName, windowsVersionOf } from '../../../src/workflow/private/image-names';
import { TARGET } from '../fixtures';

describe('image names', () => {
  test('follow AWSSupport-StartEC2RescueWorkflow: <prefix>-Pre/Post-Script-Backup_<instance>_<date of the execution start>', () => {
    expect(backupImageName('ResetAccess', TARGET, '2026-11-28T09:05:07.999Z')).toBe(`ResetAccess-Pre-Script-Backup_${TARGET}_2026-11-28-09-05-07`);
    expect(passwordEnabledImageName('ResetAccess', TARGET, '2026-11-28T09:05:07Z')).toBe(`ResetAccess-Post-Script-Backup_${TARGET}_2026-11-28-09-05-07`);
  });

  test('the date is UTC whatever the offset of the start time', () => {
    expect(imageDateStamp('2026-11-28T10:05:07+01:00')).toBe('2026-11-28-09-05-07');
  });

  test('characters an AMI name may not hold are replaced in the prefix', () => {
    const name = backupImageName('My:Reset*Access{1}', TARGET, '2026-11-28T09:05:07Z');
    expect(name).toMatch(/^My-Reset-Access-1--Pre-Script-Backup_/);
    expect(name).toMatch(AMI_NAME_PATTERN);
  });

  test('a long prefix is truncated so the name stays within 128 characters and keeps its suffix', () => {
    const name = passwordEnabledImageName('x'.repeat(200), TARGET, '2026-11-28T09:05:07Z');
    expect(name).toHaveLength(128);
    expect(name).toMatch(AMI_NAME_PATTERN);
    expect(name.endsWith(`-Post-Script-Backup_${TARGET}_2026-11-28-09-05-07`)).toBe(true);
  });

  test('allowed special characters are kept', () => {
    expect(backupImageName("a(b)[c] d.e/f-g'h@i_j", TARGET, '2026-11-28T09:05:07Z')).toMatch(/^a\(b\)\[c\] d\.e\/f-g'h@i_j-Pre/);
  });

  test('a start time that is not a time is refused', () => {
    expect(() => backupImageName('p', TARGET, 'yesterday')).toThrow(/not an ISO 8601 time/);
  });
});

describe('windowsVersionOf', () => {
  test.each([
    ['Windows_Server-2022-English-Full-Base-2026.11.12', '2022'],
    ['/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base', '2019'],
    ['Microsoft Windows Server 2016 with Desktop Experience Locale English AMI provided by Amazon', '2016'],
    ['Windows_Server-2025-English-Core-Base', '2025'],
    ['amzn2-ami-hvm-2.0', undefined],
    [undefined, undefined],
  ])('%s → %s', (text, version) => {
    expect(windowsVersionOf(text)).toBe(version);
  });
});

describe('chooseHelperImageParameter', () => {
  const p2022 = '/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base';
  const p2019 = '/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base';

  test('picks the first parameter whose version differs from the target\'s', () => {
    expect(chooseHelperImageParameter([p2022, p2019], '2022')).toBe(p2019);
    expect(chooseHelperImageParameter([p2022, p2019], '2019')).toBe(p2022);
  });

  test('an unknown target version takes the first', () => {
    expect(chooseHelperImageParameter([p2022, p2019])).toBe(p2022);
  });

  test('when every parameter has the target\'s version, the first is used', () => {
    expect(chooseHelperImageParameter([p2022], '2022')).toBe(p2022);
  });

  test('no parameter at all is a configuration error', () => {
    expect(() => chooseHelperImageParameter([], '2022')).toThrow(/at least one/);
  });
});

describe('device names', () => {
  test('/dev/ does not matter', () => {
    expect(normalizeDevice('/dev/xvdf')).toBe('xvdf');
    expect(sameDevice('/dev/sda1', 'sda1')).toBe(true);
    expect(sameDevice('xvdf', 'xvdg')).toBe(false);
    expect(sameDevice(undefined, 'xvdf')).toBe(false);
  });
});
