// The parts of the editor files that name providers, written from the one provider table
// (lib/providers/registry.json) so that adding a provider touches no .html: each flow node's
// config-node fields and rows, and the table itself for the editor scripts.
//
// Node-RED binds a config-node selector only when its input (id node-input-<provider>) is in
// the template and the property is in `defaults` with a `type`, before any editor script runs,
// so these are placed at build time rather than added by resources/pos-editor.js.
'use strict';
const fs = require('fs');
const path = require('path');

const registry = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'providers', 'registry.json'), 'utf8'));

/** The providers a flow node type offers (those with its capability), in the table's order. */
function providersFor(type) {
  const capability = registry.flowNodes[type];
  if (!capability) throw new Error(`${type} is not a flow node of lib/providers/registry.json ("flowNodes")`);
  return registry.providers.filter((p) => p.capabilities[capability]);
}

/**
 * The provider a flow node uses when none is set: its `defaultProviders` entry, else the first
 * provider that offers it (the same rule as defaultProvider in lib/providers/registry.ts).
 */
function defaultProvider(type) {
  return (registry.defaultProviders || {})[type] || providersFor(type)[0].name;
}

/**
 * What the table adds to a flow node's defaults (the same as flowNodeDefaults in
 * lib/providers/registry.ts): its default provider, which takes the place of the empty
 * `provider` of nodes/defaults/<type>.json, and one config reference per offered provider,
 * each empty by default.
 */
function providerDefaults(type) {
  return { provider: defaultProvider(type), ...Object.fromEntries(providersFor(type).map((p) => [p.name, ''])) };
}

/**
 * The `defaults` entries: each required only while its provider is the selected one (no
 * `required: false`: with it Node-RED skips `validate` for an empty value).
 */
function providerFields(type, indent) {
  return providersFor(type)
    .map((p) => `${indent}${p.name}: { value: D.${p.name}, type: 'pos-${p.name}', validate: window.PosPayments.configFor('${p.name}') },\n`)
    .join('');
}

/**
 * The provider select and one config-node row per offered provider. The select's options are
 * filled (and explained) by PosPayments.prepareProviderField; these make it right before that.
 */
function providerRows(type, indent) {
  const options = providersFor(type).map((p) => `${indent}    <option value="${p.name}">${p.label}</option>\n`).join('');
  const rows = providersFor(type).map((p) => [
    `${indent}<div class="form-row" data-pos-provider="${p.name}">`,
    `${indent}  <label for="node-input-${p.name}"><i class="fa fa-plug"></i> <span data-i18n="pos.connection.label"></span></label>`,
    `${indent}  <input type="text" id="node-input-${p.name}">`,
    `${indent}</div>`,
  ].join('\n') + '\n').join('');
  return `${indent}<div class="form-row">\n`
    + `${indent}  <label for="node-input-provider"><i class="fa fa-credit-card"></i> <span data-i18n="${type}.label.provider"></span></label>\n`
    + `${indent}  <select id="node-input-provider" style="width: 70%;">\n${options}${indent}  </select>\n`
    + `${indent}</div>\n${rows}`;
}

/**
 * The table for the editor scripts (the first copy wins, like theirs). Node-RED loads a node
 * file's <script src> before it runs the inline scripts, so the scripts read it when needed.
 */
function tableScript() {
  return '<script type="text/javascript">\n'
    + `window.PosPaymentsProviders = window.PosPaymentsProviders || ${JSON.stringify(registry.providers)};\n`
    + '</script>\n';
}

module.exports = { registry, providersFor, defaultProvider, providerDefaults, providerFields, providerRows, tableScript };
