// Issue 13: adding a provider should be its own folders plus a few entries, not an edit in every
// node. This counts, for each provider, the files of the repository outside its own places that
// name it (its name, case-insensitive, anywhere in the text, comments included), and keeps that
// at four at most, for every provider: the provider table (lib/providers/registry.json),
// package.json (the node list Node-RED reads), lib/core/types.ts (the ProviderName type) and
// lib/index.ts (the library's exports, its public API). Nothing else names a provider: shared
// code reads the provider table (lib/providers/registry.ts) or asks the provider's adapter, and
// comments that used a provider as an example say "a provider" or "another provider".
//
// What does not count:
// - its own places: lib/providers/<name>/, lib/simulators/<name>/, lib/check/<name>*,
//   scripts/derive-<name>-schemas.js, and any file under nodes/ named pos-<name>.* (its config
//   node, defaults and catalog). A mention of one provider in another provider's own place
//   counts for the provider it names;
// - what is not code: examples/, test/ (the conformance entry lives there), docs/, Markdown, and
//   the help text of a node (`<script type="text/html" data-help-name>`), which is documentation;
// - bench/, like test/: benchmarks measure named providers, and adding a provider needs no bench;
// - specs/: the providers' published spec texts are data, not code (one provider's spec may
//   mention another, as Dojo's does);
// - what is not the repository: node_modules, dist, .git;
// - a platform word that only contains a name: Node's crypto option `modulusLength` (an RSA
//   key's size, which a simulator uses) does not name Modulus.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import registry from '../../lib/providers/registry.json';

const root = path.join(__dirname, '../../..');
const MAX_FILES = 4;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'examples', 'test', 'docs', 'bench', 'specs']);

function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) out.push(...files(rel));
    } else if (!entry.name.endsWith('.md')) out.push(rel);
  }
  return out;
}

function ownPlace(file: string, name: string): boolean {
  return file.startsWith(`lib/providers/${name}/`) || file.startsWith(`lib/simulators/${name}/`)
    || file.startsWith(`lib/check/${name}`) || file === `scripts/derive-${name}-schemas.js`
    || (file.startsWith('nodes/') && path.basename(file).startsWith(`pos-${name}.`));
}

/** Platform identifiers that contain a provider's name without naming it. */
const NOT_A_NAME = /\bmodulusLength\b/g;

/** The text that counts: an .html file without its help section, and without NOT_A_NAME. */
function countedText(file: string): string {
  const text = fs.readFileSync(path.join(root, file), 'utf8').replace(NOT_A_NAME, '');
  return file.endsWith('.html') ? text.replace(/<script type="text\/html" data-help-name="[^"]*">[\s\S]*?<\/script>/g, '') : text;
}

function filesNaming(name: string): string[] {
  return files('').filter((f) => !ownPlace(f, name) && countedText(f).toLowerCase().includes(name)).sort();
}

describe('a provider is named outside its own folders in at most four files', () => {
  it('the count sees a provider named in code, and leaves out its own folders and help text', () => {
    const named = filesNaming('sensepass');
    assert.ok(named.includes('lib/providers/registry.json'), 'the provider table names it');
    assert.ok(named.includes('package.json'), 'package.json names it');
    assert.ok(!named.some((f) => f.startsWith('lib/providers/sensepass/') || f === 'nodes/pos-sensepass.ts'), 'its own files do not count');
    assert.ok(!named.includes('nodes/pos-journal.html'), 'a help text naming it does not count');
    assert.ok(!filesNaming('paymentsense').includes('specs/dojo/dojo-api.json'), 'a published spec does not count');
    assert.ok(filesNaming('modulus').includes('lib/index.ts'), 'ModulusProvider still names it: only `modulusLength` is left out');
  });

  for (const { name } of registry.providers) {
    it(name, () => {
      const named = filesNaming(name);
      assert.ok(named.length <= MAX_FILES, `${named.length} files name ${name}:\n  ${named.join('\n  ')}`);
    });
  }
});
