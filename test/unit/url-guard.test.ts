import { isBlockedAddress, redactUrl, UrlGuard } from '../../src/shared/url-guard';

describe('addresses a caller-given URL may not reach', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
    'ff02::1',
    'not-an-address',
  ])('%s is refused', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '140.82.112.3', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('UrlGuard.check', () => {
  const guard = new UrlGuard(['mirror.internal', '127.0.0.1:8443']);
  it.each([
    ['http://example.org/x.json', /must be https/],
    ['file:///etc/passwd', /must be https/],
    ['ftp://example.org/x', /must be https/],
    ['https://127.0.0.1/x.json', /does not fetch/],
    ['https://[::1]/x.json', /does not fetch/],
    ['https://169.254.169.254/latest/meta-data/', /does not fetch/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', (url, why) => {
    expect(() => guard.check(url)).toThrow(why);
  });

  it('takes public https URLs and the hosts the operator names', () => {
    expect(guard.check('https://example.org/x.json').hostname).toBe('example.org');
    expect(guard.check('http://mirror.internal/x.json').hostname).toBe('mirror.internal');
    expect(guard.check('http://127.0.0.1:8443/x.json').port).toBe('8443');
    expect(() => guard.check('http://127.0.0.1:9999/x.json')).toThrow(/must be https/);
  });
});

describe('redactUrl', () => {
  it('drops credentials and keeps the rest', () => {
    expect(redactUrl('https://user:secret@example.org/a.json?x=1')).toBe(
      'https://example.org/a.json?x=1',
    );
    expect(redactUrl('https://example.org/a.json')).toBe('https://example.org/a.json');
  });
});
