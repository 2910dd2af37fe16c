/** A one-line progress display on a terminal's stderr; silent when stderr is not a terminal. */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr) {
  let last = 0;
  let lastPhase = '';
  const enabled = stream.isTTY === true;
  return {
    update(p: { phase: string; done: number; total: number }) {
      if (!enabled) return;
      const now = Date.now();
      if (p.phase === lastPhase && now - last < 100 && p.done < p.total) return;
      last = now;
      lastPhase = p.phase;
      const width = 30;
      const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
      const bar =
        p.total > 0
          ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, '.')}] ${Math.round(ratio * 100)}%`
          : '';
      const amount =
        p.phase === 'download'
          ? `${(p.done / 1e6).toFixed(1)} MB`
          : p.total > 0
            ? `${p.done}/${p.total}`
            : '';
      stream.write(`\r\x1b[2K${p.phase.padEnd(28)} ${bar} ${amount}`);
    },
    done() {
      if (enabled && lastPhase) stream.write('\r\x1b[2K');
    },
  };
}
