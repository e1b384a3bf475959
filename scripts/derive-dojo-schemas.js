#!/usr/bin/env node
// Derives the Dojo schemas from Dojo's own published specs instead of retyping them:
//   specs/dojo/dojo-epos-data-asyncapi.yml         EPOS Data methods (JSON-RPC over WebSocket)
//   specs/dojo/dojo-api.json                       Dojo REST API (OpenAPI 3.0)
// Output: lib/providers/dojo/schemas.generated.json, read by lib/providers/dojo/schemas.ts.
//
// Layout of the output:
//   specs           file name -> sha256 of each spec, so --check notices a new spec
//   methods[]       one per AsyncAPI channel: { method, capabilities, params, paramsOptional, result }
//   eposErrorTypes  the EPOSErrorType enum
//   rest            name -> { direction, schema } for the REST bodies the adapter uses
//   defs            { inbound, outbound }: the reachable definitions of each direction. Every
//                   schema above refers to them as "#/$defs/<Name>" and is compiled standalone
//                   with the definitions of its direction attached as $defs. REST names carry
//                   a "rest." prefix because both specs define Money, Customer, TaxLine,
//                   OrderDetails, Modifier, ... differently.
//   knownValues     the values of every enum the schemas no longer enforce (see "open enums")
//
// Transformations, each with its reason:
//   - Open enums: `enum` is dropped (the values go to `knownValues`), as in the other
//     providers' derive-*-schemas.js. Providers add values (a new OrderStatus, a new terminal
//     session status) and a new value must reach the mapping, which picks the neutral choice,
//     instead of failing a whole message.
//   - Direction: `params` (what Dojo sends us) and the REST responses are "inbound"; `result`
//     (what a flow answers) and the REST request bodies are "outbound".
//     Inbound: every `additionalProperties: false` is dropped, so an unknown member Dojo starts
//     sending is tolerated. Outbound: every object that lists `properties` is closed
//     (`additionalProperties: false`) unless the spec says otherwise. The AsyncAPI itself only
//     closes Customer and TaxLine; we close the rest because a member the spec does not define
//     is almost always a misspelt field in a flow's answer (`totalamount`), which Dojo would
//     silently ignore and the merchant would see as a wrong bill. The script refuses an
//     outbound combinator whose members list properties, where closing would reject valid data.
//     Closed is written `additionalProperties: { not: {} }` (same meaning, better reason, see CLOSED).
//   - Bill Text lines accept both `bold` (the AsyncAPI schema) and `emphasisBold` (the same
//     spec's OrderBill example, and the spelling of Dojo's REST receipt lines). Which one
//     Dojo's bill renderer reads is not documented, so a flow may send either.
//   - OpenAPI 3.0 `nullable: true`: ajv 8 only understands it next to `type` (without `type`
//     it throws at compile time), so plain schemas get `type: [T, "null"]` and schemas built
//     from $ref/allOf/oneOf/anyOf become `anyOf: [<schema>, { type: "null" }]`.
//   - `format` is dropped: the library's ajv (lib/core/schema.ts) has no ajv-formats and, with
//     strict:false, prints "unknown format ... ignored" for date-time/int64/... on every
//     compile. Money `value` stays `type: integer` (minor units), which is what matters.
//   - A oneOf/anyOf/allOf with a single member is that member (the specs wrap every Money in
//     `oneOf: [Money]`): same meaning, and ajv's reason then names the field, not the wrapper.
//   - Annotations (description, title, example(s), default, readOnly, x-*) are dropped: ajv
//     ignores them and they would triple the file.
//   - Kept as the spec says: `params.headers` is required (the AsyncAPI intro: "A `headers`
//     field is also included inside every `params` field", and no example contradicts it);
//     ListAreasV1 may omit `params` altogether (its envelope does not require it) -> paramsOptional.
//   - Capabilities come from each channel description ("Capability: `X`", "Capability: X",
//     the typo "Capbility: `X`", HandleEventV1's bulleted "Capabilities:" list) and are
//     cross-checked against dojo-api.json's CapabilityName. That schema has no `enum`: its
//     description lists the names in parentheses, which is what is parsed. A name missing
//     there fails the script. Names that differ from the method: RecordOrderPaymentByIdV1 <->
//     RecordOrderPayment, GetOrderBillByIdV1 <-> GetOrderBill, UpdatePartyV1 <-> UpdatePartyById,
//     UpdateReservationV1 <-> UpdateReservationById.
//
// usage: node scripts/derive-dojo-schemas.js [--check] [--out <file>]
//   writes lib/providers/dojo/schemas.generated.json (or <file>); --check exits 1 when that
//   file differs from a fresh derivation and writes nothing. DOJO_SCHEMAS_OUT may replace --out;
//   DOJO_SPEC_DIR replaces specs/dojo.
// The file is expanded two levels deep (one line per method, REST schema and definition) so a
// spec change shows up as a readable diff, and compact below that to stay small.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const root = path.resolve(__dirname, '..');
// DOJO_SPEC_DIR lets the tests derive from a doctored copy of the specs.
const specDir = process.env.DOJO_SPEC_DIR ? path.resolve(process.env.DOJO_SPEC_DIR) : path.join(root, 'specs', 'dojo');
const ASYNCAPI = 'dojo-epos-data-asyncapi.yml';
const REST_API = 'dojo-api.json';
const defaultOut = path.join(root, 'lib', 'providers', 'dojo', 'schemas.generated.json');

const REST_SCHEMAS = {
  TerminalSession: 'inbound',
  PaymentIntent: 'inbound',
  Terminal: 'inbound',
  ProblemDetails: 'inbound',
  Refund: 'inbound',
  Capture: 'inbound',
  Reversal: 'inbound',
  CreatePaymentIntentRequest: 'outbound',
  CreateCaptureRequest: 'outbound',
  CreateTerminalSessionRequest: 'outbound',
  CreateRefundRequest: 'outbound',
  WsIntegrationRequest: 'outbound',
};

const ANNOTATIONS = new Set(['description', 'title', 'example', 'examples', 'default', 'readOnly', 'writeOnly', 'deprecated', 'format', 'externalDocs', 'xml']);
const COMBINATORS = ['allOf', 'anyOf', 'oneOf'];
// Means `additionalProperties: false`, but ajv then reports the unknown member's own path
// ("result/totalamount must NOT be valid") instead of the enclosing object's, and the
// library's explain() prints only the path and the message.
const CLOSED = Object.freeze({ not: {} });
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not', 'additionalItems', 'contains', 'propertyNames', 'if', 'then', 'else']);

function fail(message) {
  throw new Error('derive-dojo-schemas: ' + message);
}

function refName(ref) {
  const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
  if (!m) fail('unsupported $ref ' + ref);
  return m[1];
}

/**
 * Converts the definitions of one spec for one direction, following $refs from the roots so
 * only reachable definitions end up in the output.
 */
function makeConverter({ components, prefix, direction, defs, knownValues }) {
  const pending = [];
  const defName = (name) => prefix + name;
  const want = (name) => {
    if (!components[name]) fail(`${prefix}${name} is referenced but not defined`);
    if (!(defName(name) in defs)) {
      defs[defName(name)] = null; // reserve: breaks cycles
      pending.push(name);
    }
    return { $ref: '#/$defs/' + defName(name) };
  };

  function convert(node, owner) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) fail(`unexpected schema at ${owner}`);
    if (direction === 'outbound') node = mergeObjectAllOf(node, components);
    let out = {};
    for (const [key, value] of Object.entries(node)) {
      if (ANNOTATIONS.has(key) || key.startsWith('x-') || key === 'nullable') continue;
      if (key === '$ref') Object.assign(out, want(refName(value)));
      else if (key === 'enum') knownValues[prefix + owner] = value;
      else if (SCHEMA_MAPS.has(key)) {
        out[key] = {};
        for (const [name, sub] of Object.entries(value)) out[key][name] = convert(sub, `${owner}.${name}`);
      } else if (SCHEMA_LISTS.has(key)) out[key] = value.map((sub) => convert(sub, owner));
      else if (SCHEMA_VALUES.has(key)) out[key] = typeof value === 'object' ? convert(value, key === 'items' ? owner + '[]' : owner) : value;
      else out[key] = value;
    }
    if (direction === 'inbound' && out.additionalProperties === false) delete out.additionalProperties;
    if (direction === 'outbound' && out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
    if (direction === 'outbound' && out.additionalProperties === false) out.additionalProperties = CLOSED;
    out = collapseSingleMembers(out);
    if (node.nullable === true) out = makeNullable(out);
    return out;
  }

  function drain() {
    while (pending.length) {
      const name = pending.shift();
      defs[defName(name)] = convert(components[name], name);
    }
  }
  return { want, convert, drain };
}

/**
 * An outbound `allOf` of plain object schemas becomes one object, so it can be closed as a
 * whole. The REST spec itself composes two closed objects (PaymentCustomerDetails = Customer +
 * { secret, savedCardId }, both `additionalProperties: false`), which no value with members
 * from both halves could pass; merged, it means what it evidently intends.
 */
function mergeObjectAllOf(node, components) {
  if (!Array.isArray(node.allOf) || node.allOf.length < 2) return node;
  const members = node.allOf.map((m) => (m.$ref ? components[refName(m.$ref)] : m));
  const plain = (m) => Object.keys(m).every((k) => ['type', 'properties', 'required', 'additionalProperties', 'nullable'].includes(k) || ANNOTATIONS.has(k) || k.startsWith('x-'));
  if (!members.every((m) => m && plain(m) && (m.type === undefined || m.type === 'object'))) return node;
  const { allOf, ...rest } = node;
  const merged = { ...rest, type: 'object', properties: {}, required: [] };
  for (const m of members) {
    Object.assign(merged.properties, m.properties || {});
    merged.required.push(...(m.required || []));
  }
  if (!merged.required.length) delete merged.required;
  return merged;
}

/** `oneOf: [X]` means X; merged so ajv's reason names the field rather than the wrapper. */
function collapseSingleMembers(node) {
  let out = { ...node };
  for (const key of COMBINATORS) {
    if (!Array.isArray(out[key]) || out[key].length !== 1) continue;
    const member = out[key][0];
    delete out[key];
    const clash = Object.keys(member).some((k) => k in out);
    if (clash) out.allOf = [...(out.allOf || []), member];
    else out = { ...out, ...member };
  }
  return out;
}

function makeNullable(node) {
  const composite = '$ref' in node || COMBINATORS.some((k) => k in node);
  if (!composite && typeof node.type === 'string') return { ...node, type: [node.type, 'null'] };
  if (!composite && Array.isArray(node.type)) return { ...node, type: [...new Set([...node.type, 'null'])] };
  return { anyOf: [node, { type: 'null' }] };
}

/**
 * Closing an object is only safe when each object is described in one place: allOf members
 * (or allOf next to the node's own properties) would each reject the others' members.
 * anyOf/oneOf members are alternatives that describe the whole value, so they may be closed.
 */
function assertClosable(defs) {
  const resolve = (s) => (s && s.$ref ? defs[s.$ref.replace('#/$defs/', '')] : s);
  const listsProperties = (s) => Boolean(resolve(s) && resolve(s).properties);
  const visit = (node, where) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n) => visit(n, where));
    const parts = [...(node.allOf || []), ...(node.properties || node.$ref ? [node.$ref ? { $ref: node.$ref } : node] : [])];
    const alternatives = [...(node.anyOf || []), ...(node.oneOf || [])];
    if (parts.filter(listsProperties).length > 1 || (node.properties && alternatives.some(listsProperties))) {
      fail(`outbound ${where} spreads an object over combinator members; closing it would reject valid data`);
    }
    for (const value of Object.values(node)) visit(value, where);
  };
  for (const [name, def] of Object.entries(defs)) visit(def, name);
}

/** Follows $refs and allOf members of a spec schema to the member that declares `prop`. */
function findProperty(components, schema, prop, seen = new Set()) {
  if (schema.$ref) {
    const name = refName(schema.$ref);
    if (seen.has(name)) return undefined;
    seen.add(name);
    return findProperty(components, components[name], prop, seen);
  }
  if (schema.properties && schema.properties[prop]) {
    return { schema: schema.properties[prop], required: (schema.required || []).includes(prop) };
  }
  for (const member of schema.allOf || []) {
    const found = findProperty(components, member, prop, seen);
    if (found) return found;
  }
  return undefined;
}

function parseCapabilities(method, description) {
  const m = /Cap(?:a)?bilit(?:y|ies)\s*:([\s\S]*)$/.exec(description || '');
  if (!m) fail(`${method}: no "Capability:" in the channel description`);
  const quoted = [...m[1].matchAll(/`([^`]+)`/g)].map((q) => q[1].trim());
  if (quoted.length) return quoted;
  const bare = /^\s*([A-Za-z][\w:.]*)/.exec(m[1]);
  if (!bare) fail(`${method}: cannot read the capability in "${description.trim()}"`);
  return [bare[1]];
}

/** CapabilityName is a plain string whose description lists the valid names in parentheses. */
function capabilityNames(restSpec) {
  const schema = restSpec.components.schemas.CapabilityName;
  if (!schema) fail('dojo-api.json has no CapabilityName schema');
  if (Array.isArray(schema.enum)) return schema.enum;
  const m = /\(([^)]*)\)/.exec(schema.description || '');
  if (!m) fail('CapabilityName lists no names (neither enum nor a parenthesised list)');
  return m[1].split(',').map((s) => s.trim()).filter(Boolean);
}

function derive(asyncText, restText) {
  const asyncSpec = yaml.load(asyncText);
  const restSpec = JSON.parse(restText);
  const eposComponents = asyncSpec.components.schemas;
  const restComponents = restSpec.components.schemas;
  const defs = { inbound: {}, outbound: {} };
  const knownValues = {};
  const converters = {};
  for (const direction of ['inbound', 'outbound']) {
    converters[direction] = {
      epos: makeConverter({ components: eposComponents, prefix: '', direction, defs: defs[direction], knownValues }),
      rest: makeConverter({ components: restComponents, prefix: 'rest.', direction, defs: defs[direction], knownValues }),
    };
  }

  const validCapabilities = new Set(capabilityNames(restSpec));
  const methods = [];
  for (const [method, channel] of Object.entries(asyncSpec.channels)) {
    const capabilities = parseCapabilities(method, channel.description);
    for (const c of capabilities) {
      if (!validCapabilities.has(c)) fail(`${method}: capability "${c}" is not a CapabilityName in ${REST_API}`);
    }
    // Dojo is the client: "subscribe" carries its request, "publish" the EPOS's response.
    const request = channel.subscribe && channel.subscribe.message && channel.subscribe.message.payload;
    const response = channel.publish && channel.publish.message && channel.publish.message.payload;
    if (!request || !response) fail(`${method}: channel lacks a request or a response payload`);
    const params = findProperty(eposComponents, request, 'params');
    const result = findProperty(eposComponents, response, 'result');
    if (!params || !result) fail(`${method}: cannot find params/result in the payloads`);
    methods.push({
      method,
      capabilities,
      params: converters.inbound.epos.convert(params.schema, method + '.params'),
      paramsOptional: !params.required,
      result: converters.outbound.epos.convert(result.schema, method + '.result'),
    });
  }

  const rest = {};
  for (const [name, direction] of Object.entries(REST_SCHEMAS)) {
    if (!restComponents[name]) fail(`${REST_API} has no schema ${name}`);
    rest[name] = { direction, schema: converters[direction].rest.want(name) };
  }
  for (const direction of ['inbound', 'outbound']) {
    converters[direction].epos.drain();
    converters[direction].rest.drain();
  }

  const text = defs.outbound.Text;
  if (!text || !text.properties || !text.properties.bold) fail('bill Text line has no `bold` any more: revisit the emphasisBold patch');
  text.properties.emphasisBold = { type: 'boolean' };
  if (defs.inbound.Text) defs.inbound.Text.properties.emphasisBold = { type: 'boolean' };
  assertClosable(defs.outbound);

  const errorTypes = eposComponents.EPOSErrorType && eposComponents.EPOSErrorType.enum;
  if (!Array.isArray(errorTypes) || !errorTypes.includes('UnexpectedError')) fail('EPOSErrorType lacks UnexpectedError');

  const sorted = (obj) => Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
  return {
    $comment: 'Generated by scripts/derive-dojo-schemas.js from specs/dojo. Do not edit.',
    specs: {
      [ASYNCAPI]: crypto.createHash('sha256').update(asyncText).digest('hex'),
      [REST_API]: crypto.createHash('sha256').update(restText).digest('hex'),
    },
    methods,
    eposErrorTypes: errorTypes,
    rest,
    defs: { inbound: sorted(defs.inbound), outbound: sorted(defs.outbound) },
    knownValues: sorted(knownValues),
  };
}

function layout(value, depth) {
  if (depth > 2 || !value || typeof value !== 'object') return JSON.stringify(value);
  const pad = '  '.repeat(depth + 1);
  const end = '  '.repeat(depth);
  if (Array.isArray(value)) {
    return value.length ? '[\n' + value.map((v) => pad + layout(v, depth + 1)).join(',\n') + '\n' + end + ']' : '[]';
  }
  const entries = Object.entries(value);
  if (!entries.length) return '{}';
  return '{\n' + entries.map(([k, v]) => pad + JSON.stringify(k) + ': ' + layout(v, depth + 1)).join(',\n') + '\n' + end + '}';
}

function main(argv) {
  const outIndex = argv.indexOf('--out');
  const outPath = outIndex >= 0 ? path.resolve(argv[outIndex + 1] || fail('--out needs a file')) : process.env.DOJO_SCHEMAS_OUT ? path.resolve(process.env.DOJO_SCHEMAS_OUT) : defaultOut;
  const asyncText = fs.readFileSync(path.join(specDir, ASYNCAPI), 'utf8');
  const restText = fs.readFileSync(path.join(specDir, REST_API), 'utf8');
  const text = layout(derive(asyncText, restText), 0) + '\n';
  if (argv.includes('--check')) {
    const current = fs.existsSync(outPath) ? fs.readFileSync(outPath, 'utf8') : '';
    if (current !== text) {
      console.error(`${path.relative(root, outPath) || outPath} is out of date: run node scripts/derive-dojo-schemas.js`);
      process.exit(1);
    }
    console.log('dojo schemas match the published specs');
  } else {
    fs.writeFileSync(outPath, text);
    console.log(`wrote ${path.relative(root, outPath)} (${Buffer.byteLength(text)} bytes)`);
  }
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
