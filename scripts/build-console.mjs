// Builds the web console (console/) into dist/console: one script and one stylesheet, minified,
// named by their content's hash (served with a year's cache life), and index.html naming them.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'dist', 'console');
rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'console/src/main.ts', styles: 'console/styles.css' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const names = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = names.find((n) => n.startsWith('main-') && n.endsWith('.js'));
const css = names.find((n) => n.startsWith('styles-') && n.endsWith('.css'));
const html = readFileSync(path.join(root, 'console', 'index.html'), 'utf8')
  .replace('{{js}}', js)
  .replace('{{css}}', css);
writeFileSync(path.join(out, 'index.html'), html);
