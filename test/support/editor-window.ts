// The editor's helper (resources/pos-editor.js) as a browser gets it: after the provider table
// the build writes into every node file (scripts/provider-parts.js), so tests see the providers
// the editor really offers rather than an empty list.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const root = path.join(__dirname, '../../..');

export function editorWindow<T>(): { PosPayments?: T; PosPaymentsProviders?: unknown[] } {
  const html = fs.readFileSync(path.join(root, 'dist/nodes/pos-pay.html'), 'utf8');
  const table = /<script type="text\/javascript">\n(window\.PosPaymentsProviders = [^\n]*)\n<\/script>/.exec(html);
  if (!table) throw new Error('dist/nodes/pos-pay.html has no provider table: run node scripts/build.js');
  const window: { PosPayments?: T; PosPaymentsProviders?: unknown[] } = {};
  vm.runInNewContext(table[1]!, { window });
  vm.runInNewContext(fs.readFileSync(path.join(root, 'resources/pos-editor.js'), 'utf8'), { window });
  return window;
}
