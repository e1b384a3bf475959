// What `npm pack` would publish, read from `npm pack --dry-run --json` (scripts ignored here:
// the suite already built dist/, and a rebuild under a running mocha would rewrite its files).
// A user's install must run nothing, carry no tests, bench or TypeScript sources, and have
// every file Node-RED's loader and `main` name.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
/** Scripts npm runs when the package is installed as a dependency (from the registry, a tarball or git). */
const INSTALL_TIME = ['preinstall', 'install', 'postinstall', 'prepare'];

describe('the packed package', function () {
  this.timeout(60000);
  let files: string[] = [];
  let size = 0;

  before(() => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }>; unpackedSize: number }>;
    files = report.files.map((f) => f.path);
    size = report.unpackedSize;
  });

  it('runs no script when installed, and builds before packing', () => {
    for (const s of INSTALL_TIME) assert.equal(pkg.scripts?.[s], undefined, `scripts.${s} would run on every user's install`);
    assert.match(String(pkg.scripts?.prepack), /scripts\/build\.js/, 'prepack builds dist/ into the tarball');
  });

  it('carries every file package.json names: main, each node .js with its .html and catalog, icons, examples', () => {
    const has = new Set(files);
    assert.ok(has.has('package.json') && has.has('README.md') && has.has('LICENSE'));
    assert.ok(has.has(pkg.main), `main ${pkg.main}`);
    for (const [type, file] of Object.entries(pkg['node-red'].nodes as Record<string, string>)) {
      assert.ok(has.has(file), `${type}: ${file}`);
      assert.ok(has.has(file.replace(/\.js$/, '.html')), `${type}: its .html beside the .js`);
      assert.ok(has.has(path.posix.join(path.posix.dirname(file), 'locales', 'en-US', `${type}.json`)), `${type}: its message catalog`);
    }
    for (const icon of fs.readdirSync(path.join(root, 'icons'))) assert.ok(has.has(`dist/nodes/icons/${icon}`), `icon ${icon}`);
    for (const example of fs.readdirSync(path.join(root, 'examples'))) assert.ok(has.has(`examples/${example}`), `example ${example}`);
    assert.ok(has.has('resources/pos-editor.js'), 'the editor script the .html files load');
    assert.ok(has.has('resources/pos-sidebar.js'), 'the Payments sidebar script pos-journal.html loads');
  });

  it('carries the check command: the bin script and the compiled CLI it requires', () => {
    const has = new Set(files);
    const bins = Object.values(pkg.bin ?? {}) as string[];
    assert.deepEqual(Object.keys(pkg.bin ?? {}), [pkg.name], 'npx <package> runs the bin named after the package');
    for (const bin of bins) {
      assert.ok(has.has(bin), `bin ${bin}`);
      const source = fs.readFileSync(path.join(root, bin), 'utf8');
      assert.match(source, /^#!\/usr\/bin\/env node/, `${bin} starts with a shebang`);
      for (const [, required] of source.matchAll(/require\('\.\.\/([^']+)'\)/g)) assert.ok(has.has(required!), `${bin} requires ${required}, which is packed`);
    }
    assert.ok(has.has('dist/lib/check/cli.js') && has.has('dist/lib/check/paymentsense.js'));
    assert.ok(has.has('resources/pos-check.js'), 'the Test connection script the config dialogs load');
  });

  it('leaves out tests, bench, scripts, specs, TypeScript sources and build leftovers', () => {
    const stray = files.filter((f) =>
      /^(test|bench|scripts|specs|lib|nodes|\.ci)\//.test(f) || /^dist\/(test|bench)\//.test(f) ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /tsbuildinfo|\.map$|^\.|\/\./.test(f) || f === 'tsconfig.json' || f === '.mocharc.json');
    assert.deepEqual(stray, []);
  });

  it('is no larger than it needs to be (under 2 MB unpacked)', () => {
    assert.ok(size > 0 && size < 2 * 1024 * 1024, `unpacked size ${size} bytes`);
  });

  it('has at most 6 production dependencies, no node-red among them, and no Socket.IO 2 client', () => {
    const deps = Object.keys(pkg.dependencies ?? {});
    assert.ok(deps.length <= 6, deps.join(', '));
    assert.ok(!deps.includes('node-red'));
    assert.ok(!deps.includes('socket.io-client-v2'), 'the v2 client is an optional install, asked for when chosen');
  });
});
