// Issue 13: adding a provider should be its own folders plus a few entries, not an edit in every
// node. This counts, for each provider, the files of the repository outside its own places that
// name it (its name, case-insensitive, anywhere in the text, comments included), and keeps that
// at four at most: today the provider table (lib/providers/registry.json), package.json (the
// node list Node-RED reads), lib/core/types.ts (the ProviderName type) and lib/index.ts (the
// library's exports).
//
// It is held for SensePass, the provider whose code is nothing but a provider's: an entry that
// needs no shared node to know about it, as a new one would. The older providers are still
// named more widely, mostly as examples in comments and help-like hints (Paymentsense and Dojo,
// the defaults), and QuickPay through the notification node's stream fields, which are its own.
//
// What does not count:
// - its own places: lib/providers/<name>/, lib/simulators/<name>/, lib/check/<name>*,
//   specs/<name>/, and any file under nodes/ named pos-<name>.* (its config node, defaults and
//   catalog);
// - what is not code: examples/, test/ (the conformance entry lives there), docs/, Markdown, and
//   the help text of a node (`<script type="text/html" data-help-name>`), which is documentation;
// - what is not the repository: node_modules, dist, .git.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '../../..');
const MAX_FILES = 4;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'examples', 'test', 'docs']);

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
    || file.startsWith(`lib/check/${name}`) || file.startsWith(`specs/${name}/`)
    || (file.startsWith('nodes/') && path.basename(file).startsWith(`pos-${name}.`));
}

/** The text that counts: an .html file without its help section. */
function countedText(file: string): string {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
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
  });

  it('sensepass', () => {
    const named = filesNaming('sensepass');
    assert.ok(named.length <= MAX_FILES, `${named.length} files name sensepass:\n  ${named.join('\n  ')}`);
  });
});
