import { branchesOf, LiteralIndex } from '../../src/enrichment/literals';
import {
  BranchIndex,
  loadPatterns,
  matchPatterns,
  type PatternLibrary,
} from '../../src/enrichment/patterns';

describe('required literals of an expression (the pattern prefilter)', () => {
  const requiredLiterals = (source: string) => branchesOf(source)[0]?.literals ?? null;

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

  it('gives each top-level branch its own literals, and refuses a numbered backreference', () => {
    expect(branchesOf('\\bipconfig\\b|(^|;)\\s*ip\\s+a\\b|\\bget-netadapter\\b')).toEqual([
      { source: '\\bipconfig\\b', literals: ['ipconfig'], also: [] },
      { source: '(^|;)\\s*ip\\s+a\\b', literals: null, also: [] },
      { source: '\\bget-netadapter\\b', literals: ['get-netadapter'], also: [] },
    ]);
    // The branch waits for its most selective literal, then checks the others it needs.
    expect(branchesOf('\\bspoof\\w*\\b.{0,30}\\b(emails?|sender)\\b')).toEqual([
      {
        source: '\\bspoof\\w*\\b.{0,30}\\b(emails?|sender)\\b',
        literals: ['spoof'],
        also: [['email', 'sender']],
      },
    ]);
    expect(branchesOf('(?<d>\\w+)@\\k<d>|foo')).toHaveLength(2);
    expect(() => branchesOf('(\\w+)@\\1|foo')).toThrow(/numbered backreference/);
  });

  it('marks exactly the patterns whose literal the text contains, and those needing nothing', () => {
    const lists = [['powershell', 'pwsh'], null, ['mimikatz'], ['sekurlsa::'], ['spoof']];
    const also = [[], [], [], [], [['email', 'sender']]];
    const index = new LiteralIndex(lists.length, (i) => ({
      literals: lists[i] ?? null,
      also: also[i] ?? [],
    }));
    const marks = (text: string) => {
      const found = index.candidates(text);
      return lists.map((_l, i) => (found.includes(i) ? 1 : 0));
    };
    expect(marks('pwsh -c x')).toEqual([1, 1, 0, 0, 0]);
    expect(marks('mimikatz "sekurlsa::logonpasswords"')).toEqual([0, 1, 1, 1, 0]);
    expect(marks('ab')).toEqual([0, 1, 0, 0, 0]);
    expect(marks('')).toEqual([0, 1, 0, 0, 0]);
    expect(marks('a spoofed domain')).toEqual([0, 1, 0, 0, 0]);
    expect(marks('the sender was spoofed')).toEqual([0, 1, 0, 0, 1]);
  });
});

describe('the prefilter never hides a match', () => {
  const lib = loadPatterns();
  /** What matching every expression on every field, with no prefilter, finds. */
  const unfiltered: PatternLibrary = {
    ...lib,
    prefilter: new BranchIndex(lib.patterns, true),
  };
  const found = (l: PatternLibrary, fields: Array<[string, string]>) =>
    matchPatterns(l, fields).map((h) => `${h.pattern.id} ${h.field} ${h.match}`);
  const texts = lib.patterns.flatMap((p) => [...p.examples, ...p.counter]);
  const variants = (t: string) => [t, t.toUpperCase(), `prefix ${t} suffix`, `x;${t}`];

  // Matches compared as found: an expression cut to the branches a text may match finds what the
  // whole one does, at the same place.
  it('finds what running every expression finds, on every example and counter-example', () => {
    let matched = 0;
    for (const text of texts) {
      for (const v of variants(text)) {
        const fields: Array<[string, string]> = [
          ['text', v],
          ['command_line', v],
        ];
        const filtered = found(lib, fields);
        expect([v, filtered]).toEqual([v, found(unfiltered, fields)]);
        matched += filtered.length;
      }
    }
    expect(matched).toBeGreaterThan(texts.length);
  });

  it('gives most branches a literal to wait for', () => {
    const branches = lib.patterns.flatMap((p) => p.branches);
    const filtered = branches.filter((b) => b.literals !== null).length;
    expect(filtered / branches.length).toBeGreaterThan(0.9);
  });
});
