import { LiteralIndex, requiredLiterals } from '../../src/enrichment/literals';
import { loadPatterns, matchPatterns, type PatternLibrary } from '../../src/enrichment/patterns';

describe('required literals of an expression (the pattern prefilter)', () => {
  it.each([
    ['certutil(\\.exe)?\\s+-urlcache', ['-urlcache']],
    ['\\bvssadmin\\b.*delete\\s+shadows', ['vssadmin']],
    // A group of literal alternatives multiplies the string it sits in; `\\b` does not break it.
    ['(rundll32|regsvr32)\\.exe', ['rundll32.exe', 'regsvr32.exe']],
    ['\\bpsexe(c|svc)\\b', ['psexec', 'psexesvc']],
    ['\\w+\\.(exe|js)\\b', ['.exe', '.js']],
    ['(\\bnet|\\bsc)\\.exe', ['net.exe', 'sc.exe']],
    ['(foo|x)bar?', ['fooba', 'xba']],
    // A repeated character ends one literal and starts the next: `xxa+bbb` holds `abbb`.
    ['xxa+bbb', ['abbb']],
    ['[Cc]ertutil', ['ertutil']],
    ['[c]ertutil', ['certutil']],
    ['SeDebugPrivilege', ['sedebugprivilege']],
    // Common words filter little: a shorter specific literal is preferred to them.
    ['\\b(connect|traffic)\\b.{0,30}\\bport\\b', ['port']],
    ['\\bremote service\\b', ['remote service']],
  ])('%s needs one of %j', (source, expected) => {
    expect(requiredLiterals(source)).toEqual(expected);
  });

  it.each([
    ['(ba|z)?sh\\s+-c'], // nothing of three characters or more is mandatory
    ['(foo|x)ba?'], // one branch needs too little
    ['\\bid\\s*$'],
    ['(abc)?def?'],
    ['[^a]bcd?'],
  ])('%s needs nothing usable', (source) => {
    expect(requiredLiterals(source)).toBeNull();
  });

  it('marks exactly the patterns whose literal the text contains, and those needing nothing', () => {
    const lists = [['powershell', 'pwsh'], null, ['mimikatz'], ['sekurlsa::']];
    const index = new LiteralIndex(lists.length, (i) => lists[i] ?? null);
    const marks = (text: string) => {
      const found = index.candidates(text, new Uint8Array(lists.length));
      return lists.map((_l, i) => (found.includes(i) ? 1 : 0));
    };
    expect(marks('pwsh -c x')).toEqual([1, 1, 0, 0]);
    expect(marks('mimikatz "sekurlsa::logonpasswords"')).toEqual([0, 1, 1, 1]);
    expect(marks('ab')).toEqual([0, 1, 0, 0]);
    expect(marks('')).toEqual([0, 1, 0, 0]);
  });
});

describe('the prefilter never hides a match', () => {
  const lib = loadPatterns();
  /** What matching every expression on every field, with no prefilter, finds. */
  const unfiltered: PatternLibrary = {
    ...lib,
    prefilter: new LiteralIndex(lib.patterns.length, () => null),
  };
  const bruteForce = (fields: Array<[string, string]>) =>
    matchPatterns(unfiltered, fields).map((h) => h.pattern.id);
  const texts = lib.patterns.flatMap((p) => [...p.examples, ...p.counter]);
  const variants = (t: string) => [t, t.toUpperCase(), `prefix ${t} suffix`, `x;${t}`];

  it('finds what running every expression finds, on every example and counter-example', () => {
    let matched = 0;
    for (const text of texts) {
      for (const v of variants(text)) {
        const fields: Array<[string, string]> = [
          ['text', v],
          ['command_line', v],
        ];
        const found = matchPatterns(lib, fields).map((h) => h.pattern.id);
        expect([v, found.sort()]).toEqual([v, bruteForce(fields).sort()]);
        matched += found.length;
      }
    }
    expect(matched).toBeGreaterThan(texts.length);
  });

  it('gives most patterns a literal to wait for', () => {
    const filtered = lib.patterns.filter((p) => p.literals !== null).length;
    expect(filtered / lib.patterns.length).toBeGreaterThan(0.8);
  });
});
