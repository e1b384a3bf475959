#!/usr/bin/env node
// Compiles the TypeScript (tsc) and places what Node-RED's loader reads beside the compiled
// nodes: each node's .html, the locale catalogs and the icons. Kept to plain Node so the
// build has no dependency beyond typescript.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const parts = require('./provider-parts');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });

const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status || 1);

function copyTree(from, to, filter) {
  if (!fs.existsSync(from)) return;
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, filter);
    else if (filter(entry.name)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

const nodesOut = path.join(out, 'nodes');
copyTree(path.join(root, 'nodes'), nodesOut, (name) => (name.endsWith('.html') && !name.startsWith('_')) || (name.endsWith('.json') && !name.startsWith('_')));

// Rows and help paragraphs several nodes show alike (a connection's Journal field; a flow
// node's Timeout and Name; a payment's terminal, currency and When busy) are written once in
// nodes/partials and put in place of `<!-- include: name -->`, with `{type}` in them standing for
// the node's type (its catalog keys): Node-RED fills and reads a dialog's inputs, and binds a
// config-node selector, only when they are in the template itself, so they cannot be added by
// the editor script.
const partials = path.join(root, 'nodes', 'partials');
fs.rmSync(path.join(nodesOut, 'partials'), { recursive: true, force: true });
for (const file of fs.readdirSync(nodesOut).filter((f) => f.endsWith('.html'))) {
  const target = path.join(nodesOut, file);
  const html = fs.readFileSync(target, 'utf8');
  const placed = html.replace(/^[ \t]*<!-- include: ([a-z-]+) -->\n/gm, (_, name) => {
    const part = path.join(partials, `${name}.html`);
    if (!fs.existsSync(part)) throw new Error(`${file}: no nodes/partials/${name}.html to include`);
    return fs.readFileSync(part, 'utf8').replace(/\{type\}/g, file.replace(/\.html$/, ''));
  });
  // Each node's defaults are one table, nodes/defaults/<type>.json, that the runtime reads too
  // (nodes/shared/defaults.ts): the editor gets the same values in place of
  // `/* defaults: <type> */ {}`, so the two can never differ.
  // A flow node's table gets its default provider in place of its empty `provider`, and one
  // empty config reference per provider it offers (scripts/provider-parts.js).
  const filled = placed.replace(/\/\* defaults: ([a-z-]+) \*\/ \{\}/g, (_, type) => {
    const table = path.join(root, 'nodes', 'defaults', `${type}.json`);
    if (!fs.existsSync(table)) throw new Error(`${file}: no nodes/defaults/${type}.json for its defaults`);
    const own = JSON.parse(fs.readFileSync(table, 'utf8'));
    return JSON.stringify(parts.registry.flowNodes[type] ? { ...own, ...parts.providerDefaults(type) } : own);
  })
    // Everything else that names providers comes from lib/providers/registry.json (see
    // scripts/provider-parts.js): a flow node's config fields and rows, and the table the
    // editor scripts read, beside the first of them.
    .replace(/^([ \t]*)\/\* provider fields \*\/\n/gm, (_, indent) => parts.providerFields(file.replace(/\.html$/, ''), indent))
    .replace(/^([ \t]*)<!-- provider rows -->\n/gm, (_, indent) => parts.providerRows(file.replace(/\.html$/, ''), indent))
    .replace(/^<script src="resources\/node-red-contrib-pos-payments\/[a-z-]+\.js"><\/script>\n/m, (tag) => parts.tableScript() + tag);
  if (filled !== html) fs.writeFileSync(target, filled);
}

// Node-RED gives each node file its own catalog namespace; the strings every node shares
// (connection status, outcomes, progress prompts) are written once in _common.json and
// merged into each node's catalog here.
const localesDir = path.join(root, 'nodes', 'locales');
if (fs.existsSync(localesDir)) {
  for (const lang of fs.readdirSync(localesDir)) {
    const commonFile = path.join(localesDir, lang, '_common.json');
    if (!fs.existsSync(commonFile)) continue;
    const common = JSON.parse(fs.readFileSync(commonFile, 'utf8'));
    for (const file of fs.readdirSync(path.join(localesDir, lang))) {
      if (!file.endsWith('.json') || file.startsWith('_')) continue;
      const own = JSON.parse(fs.readFileSync(path.join(localesDir, lang, file), 'utf8'));
      fs.writeFileSync(path.join(nodesOut, 'locales', lang, file), JSON.stringify({ ...common, ...own }, null, 2));
    }
  }
}
copyTree(path.join(root, 'icons'), path.join(nodesOut, 'icons'), (name) => name.endsWith('.svg') || name.endsWith('.png'));
