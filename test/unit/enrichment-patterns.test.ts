import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  boundGaps,
  loadPatterns,
  matchPatterns,
  PATTERNS_FILE,
} from '../../src/enrichment/patterns';

// The pattern library is data: each pattern must match the examples it gives and none of its
// counter-examples, so that editing the file cannot quietly break a pattern.
const lib = loadPatterns();

/** A library read from the given YAML text (written to a throw-away file). */
function loadText(text: string): ReturnType<typeof loadPatterns> {
  const dir = mkdtempSync(path.join(tmpdir(), 'patterns-'));
  try {
    const file = path.join(dir, 'patterns.yaml');
    writeFileSync(file, text);
    return loadPatterns(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the artefact pattern library', () => {
  it('loads, with unique ids and a technique id for each pattern', () => {
    expect(lib.version).toBeGreaterThan(0);
    expect(lib.patterns.length).toBeGreaterThan(150);
  });

  // A branch without a literal for the prefilter (a backtick, a quote, a bare `ip a`) runs on
  // every field of every item. Adding to this list is a decision, not an accident.
  it('runs a branch of only these patterns on every text; the rest wait for a literal', () => {
    expect(
      lib.patterns
        .filter((p) => p.branches.some((b) => !b.literals))
        .map((p) => p.id)
        .sort(),
    ).toEqual([
      'archive-utility',
      'at-exe',
      'command-obfuscation-cmd',
      'data-transfer-size-limits',
      'exfil-alternative-protocol',
      'file-and-directory-discovery',
      'filename-trailing-space',
      'hidden-files-attrib',
      'ipconfig',
      'local-storage-discovery',
      'netstat',
      'port-probe-netcat',
      'reverse-shell',
      'rtlo',
      'smb-admin-shares',
      'tasklist',
      'unix-shell-c',
      'whoami',
    ]);
  });

  // Read by the library as a whole: a counter-example may be one the pattern gives way to.
  it.each(lib.patterns.map((p) => [p.id, p] as const))('%s matches its examples only', (_id, p) => {
    const answers = (s: string) =>
      matchPatterns(lib, [[p.fields?.[0] ?? 'command_line', s]]).some((h) => h.pattern === p);
    for (const e of p.examples) expect([e, answers(e)]).toEqual([e, true]);
    for (const c of p.counter) expect([c, answers(c)]).toEqual([c, false]);
  });

  it('lets a generic artefact give way to the specific one on its line, and only there', () => {
    const ids = (...fields: Array<[string, string]>) =>
      matchPatterns(lib, fields).map((h) => h.pattern.id);
    const minidump = 'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 out.dmp full';
    expect(ids(['command_line', minidump])).toEqual(['lsass-dump']);
    // A second rundll32 line of its own still answers proxy execution.
    const script = `${minidump}\nrundll32.exe C:\\Users\\Public\\x.dll,Start`;
    const hits = matchPatterns(lib, [['command_line', script]]);
    expect(hits.map((h) => h.pattern.id).sort()).toEqual(['lsass-dump', 'rundll32']);
    // mimikatz gives way to lsadump::sam; the LSASS module on the same line still answers.
    expect(ids(['command_line', 'mimikatz "privilege::debug" "lsadump::sam"'])).toEqual([
      'sam-hive-dump',
    ]);
    expect(
      ids(['command_line', 'mimikatz "sekurlsa::logonpasswords" "lsadump::sam"']).sort(),
    ).toEqual(['mimikatz-lsass-modules', 'sam-hive-dump']);
  });

  it.each([
    ['one it does not hold', '[b]', /a yields to b/],
    ['the same pattern twice', '[a2, a2]', /names a pattern twice/],
  ])('refuses a library whose pattern yields to %s', (_what, yieldsTo, error) => {
    expect(() =>
      loadText(
        [
          'version: 1',
          'patterns:',
          '  - id: a',
          '    technique: T1059',
          "    regex: 'x'",
          '    strength: weak',
          `    yields_to: ${yieldsTo}`,
          "    examples: ['x']",
          '  - id: a2',
          '    technique: T1059.001',
          "    regex: 'y'",
          '    strength: weak',
          "    examples: ['y']",
        ].join('\n'),
      ),
    ).toThrow(error);
  });

  it('refuses a sub-technique pattern that says it lists sub-techniques', () => {
    const library = (technique: string) =>
      'version: 1\npatterns:\n  - id: x\n' +
      `    technique: ${technique}\n    regex: 'cmd'\n    strength: strong\n    lists: true\n` +
      '    examples: [cmd]\n';
    expect(loadText(library('T1059')).patterns[0]?.lists).toBe(true);
    expect(() => loadText(library('T1059.003'))).toThrow(/only a technique with sub-techniques/);
  });

  it('compiles every unbounded gap as a bounded one (no cubic backtracking on crafted fields)', () => {
    expect(boundGaps('a.*b\\.*c.*?d')).toBe('a.{0,200}b\\.*c.*?d');
    const unbounded = lib.patterns.filter((p) => /(?<!\\)\.\*(?!\?)/.test(p.re.source));
    expect(unbounded.map((p) => p.id)).toEqual([]);
  });

  it('is told apart by its contents, not only its version (persisted weights are keyed by it)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patterns-'));
    try {
      const text = readFileSync(PATTERNS_FILE, 'utf8');
      const same = path.join(dir, 'same.yaml');
      const edited = path.join(dir, 'edited.yaml');
      writeFileSync(same, text);
      // One pattern's strength changed, the version left as it was.
      writeFileSync(edited, text.replace('strength: strong', 'strength: medium'));
      expect(loadPatterns(same).digest).toBe(lib.digest);
      expect(loadPatterns(edited).version).toBe(lib.version);
      expect(loadPatterns(edited).digest).not.toBe(lib.digest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an expression holding a control character', () => {
    expect(() =>
      loadText(
        'version: 1\npatterns:\n  - id: x\n    technique: T1059\n    regex: "\\bcmd\\x08"\n' +
          '    strength: weak\n    examples: [cmd]\n',
      ),
    ).toThrow(/control character/);
  });

  it('reports which field matched, each pattern once', () => {
    const hits = matchPatterns(lib, [
      ['text', 'Encoded PowerShell launched by Word'],
      ['command_line', 'powershell.exe -nop -w hidden -enc SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0'],
    ]);
    const encoded = hits.find((h) => h.pattern.id === 'powershell-encoded-command');
    expect(encoded).toMatchObject({ field: 'command_line' });
    expect(encoded?.pattern.technique).toBe('T1059.001');
    expect(new Set(hits.map((h) => h.pattern.id)).size).toBe(hits.length);
  });
});
