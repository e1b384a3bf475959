import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileSchema } from '../../lib/core/schema';
import {
  DOJO_METHODS, EPOS_ERROR_TYPES, capabilitiesOf, checkParams, checkRest, checkResult, isDojoMethod,
  type RestSchemaName,
} from '../../lib/providers/dojo/schemas';
import derived from '../../lib/providers/dojo/schemas.generated.json';

type Json = any; // the specs are read as untyped documents

const repoRoot = path.resolve(__dirname, '../../..');
const specDir = path.join(repoRoot, 'specs', 'dojo');
const script = path.join(repoRoot, 'scripts', 'derive-dojo-schemas.js');
// js-yaml is a dev dependency without bundled types; only load() is needed.
const yaml = require('js-yaml') as { load(text: string): unknown };
const asyncApi = yaml.load(fs.readFileSync(path.join(specDir, 'dojo-epos-data-asyncapi.yml'), 'utf8')) as Json;
const restApi = JSON.parse(fs.readFileSync(path.join(specDir, 'dojo-api.json'), 'utf8')) as Json;
const defs = (derived as Json).defs as Record<'inbound' | 'outbound', Record<string, object>>;

const headers = { headers: { waiterId: 'w1' } };
const money = (value: unknown) => ({ value, currencyCode: 'GBP' });
const order = { id: 'ord_1', status: 'New', details: { orderType: 'DineIn', dineIn: { tableId: 'T5' } }, totalAmount: money(1250) };
const payment = { ...headers, orderId: 'ord_1', paymentIntentId: 'pi_1', paidAmount: money(1250) };

describe('dojo schemas: methods and capabilities', () => {
  const channels = Object.keys(asyncApi.channels);

  it('has one entry per AsyncAPI channel, in the spec order', () => {
    assert.ok(channels.length >= 22, 'the spec lists the EPOS Data channels');
    assert.deepEqual(DOJO_METHODS.map((m) => m.method), channels);
    for (const method of channels) assert.equal(isDojoMethod(method), true, method);
    assert.equal(isDojoMethod('GetTableByIdV1'), false);
    assert.equal(isDojoMethod('toString'), false);
  });

  it('maps methods to capability names, including the ones that differ', () => {
    assert.deepEqual(capabilitiesOf('HandleEventV1'), ['HandleEvent:payment_intent.created', 'HandleEvent:payment_intent.status_updated']);
    assert.deepEqual(capabilitiesOf('RecordOrderPaymentByIdV1'), ['RecordOrderPayment']);
    assert.deepEqual(capabilitiesOf('GetOrderBillByIdV1'), ['GetOrderBill']);
    assert.deepEqual(capabilitiesOf('UpdatePartyV1'), ['UpdatePartyById']);
    assert.deepEqual(capabilitiesOf('UpdateReservationV1'), ['UpdateReservationById']); // spec says "Capbility"
    assert.deepEqual(capabilitiesOf('CreateOrderLockV1'), ['CreateOrderLock']); // no backticks in the spec
    assert.deepEqual(capabilitiesOf('SearchOrdersV1'), ['SearchOrders']);
    assert.deepEqual(capabilitiesOf('NoSuchMethodV1'), []);
  });

  it('every capability is a CapabilityName of the REST spec, and every CapabilityName is served', () => {
    const listed = /\(([^)]*)\)/.exec(restApi.components.schemas.CapabilityName.description)![1].split(',').map((s: string) => s.trim());
    const served = DOJO_METHODS.flatMap((m) => m.capabilities);
    for (const c of served) assert.ok(listed.includes(c), `${c} is a CapabilityName`);
    assert.deepEqual([...served].sort(), [...listed].sort());
  });

  it('lists the EPOSErrorType values with UnexpectedError first', () => {
    assert.equal(EPOS_ERROR_TYPES[0], 'UnexpectedError');
    assert.deepEqual([...EPOS_ERROR_TYPES].sort(), [...asyncApi.components.schemas.EPOSErrorType.enum].sort());
  });
});

describe('dojo schemas: params and results', () => {
  it('accepts a well-formed request and answer', () => {
    assert.equal(checkParams('RecordOrderPaymentByIdV1', { ...payment, tipsAmount: money(100), lockId: 'l1' }), undefined);
    assert.equal(checkResult('RecordOrderPaymentByIdV1', order), undefined);
    assert.equal(checkResult('SearchOrdersV1', { data: [order], after: 'c2' }), undefined);
    assert.equal(checkResult('ListAreasV1', [{ id: 'a1', name: 'Downstairs' }]), undefined);
    assert.equal(checkResult('DeletePartyByIdV1', {}), undefined);
  });

  it('names the field that is wrong', () => {
    const { orderId: _omit, ...noOrderId } = payment;
    assert.match(checkParams('RecordOrderPaymentByIdV1', noOrderId) ?? '', /^RecordOrderPaymentByIdV1 params .*'orderId'/);
    assert.match(checkParams('RecordOrderPaymentByIdV1', { ...payment, paidAmount: money(12.5) }) ?? '', /params\/paidAmount\/value must be integer/);
    assert.match(checkParams('RecordOrderPaymentByIdV1', { ...payment, paidAmount: money('12.50') }) ?? '', /params\/paidAmount\/value must be integer/);
    assert.match(checkParams('SearchOrdersV1', { ...headers, cursor: { limit: '10' } }) ?? '', /params\/cursor\/limit must be integer/);
    assert.match(checkResult('GetOrderByIdV1', { ...order, totalAmount: money(1.5) }) ?? '', /result\/totalAmount\/value must be integer/);
    assert.match(checkResult('GetOrderByIdV1', { ...order, status: undefined }) ?? '', /result .*'status'/);
  });

  it('keeps params.headers required, as the spec says; ListAreasV1 may omit params', () => {
    const { headers: _h, ...bare } = payment;
    assert.match(checkParams('RecordOrderPaymentByIdV1', bare) ?? '', /'headers'/);
    assert.equal(checkParams('ListAreasV1', undefined), undefined);
    assert.equal(checkParams('ListAreasV1', headers), undefined);
    assert.match(checkParams('GetOrderByIdV1', undefined) ?? '', /params must be object/);
  });

  it('reports an unknown method', () => {
    assert.match(checkParams('GetTableByIdV1', {}) ?? '', /unknown Dojo method "GetTableByIdV1"/);
    assert.match(checkResult('GetTableByIdV1', {}) ?? '', /unknown Dojo method/);
  });

  it('tolerates unknown members in what Dojo sends', () => {
    assert.equal(checkParams('SearchOrdersV1', { headers: { deviceId: 'd', somethingNew: 1 }, payableOnly: true, somethingNew: { a: 1 } }), undefined);
    // Customer is closed in the spec (additionalProperties: false); inbound it is open.
    const create = {
      ...headers, items: [], totalAmount: money(0), dojoOrderId: 'do_1', payments: [],
      details: { orderType: 'Collection', collection: { asap: true } }, customer: { name: 'A', loyaltyId: 'x' },
    };
    assert.equal(checkParams('CreateOrderV1', create), undefined);
  });

  it('rejects unknown members in what a flow answers, naming them', () => {
    assert.match(checkResult('GetOrderByIdV1', { ...order, totalamount: money(1250) }) ?? '', /result\/totalamount is not a member the Dojo spec defines/);
    assert.match(checkResult('SearchTablesV1', { data: [{ id: 't', name: 'T1', seats: 4 }] }) ?? '', /result\/data\/0\/seats/);
  });

  it('keeps enumerations open', () => {
    assert.equal(checkResult('GetOrderByIdV1', { ...order, status: 'Teleported' }), undefined);
    const event = { ...headers, id: 'e1', accountId: 'acc', event: 'payment_intent.teleported', createdAt: '2024-01-01T00:00:00Z',
      data: { paymentIntentId: 'pi', paymentStatus: 'Frozen', captureMode: 'Sideways' } };
    assert.equal(checkParams('HandleEventV1', event), undefined);
    assert.match(checkParams('HandleEventV1', { ...event, data: { ...event.data, paymentStatus: 7 } }) ?? '', /params\/data\/paymentStatus must be string/);
  });

  it('accepts both bold and emphasisBold in a bill Text line, and nothing misspelt', () => {
    const bill = (text: object) => ({ header: { lines: [{ lineType: 'Text', text: { value: 'Hi', size: 'Header1', ...text } }] }, order, footer: { lines: [] } });
    assert.equal(checkResult('GetOrderBillByIdV1', bill({ bold: true })), undefined);
    assert.equal(checkResult('GetOrderBillByIdV1', bill({ emphasisBold: true })), undefined);
    assert.match(checkResult('GetOrderBillByIdV1', bill({ emphasisbold: true })) ?? '', /result\/header\/lines\/0\/text\/emphasisbold/);
  });

  it('every method compiles, without ajv warnings about formats', () => {
    const warnings: unknown[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => { warnings.push(args); };
    try {
      for (const { method } of DOJO_METHODS) {
        assert.equal(typeof (checkParams(method, 42) ?? ''), 'string');
        assert.equal(typeof (checkResult(method, 42) ?? ''), 'string');
      }
      for (const name of Object.keys((derived as Json).rest) as RestSchemaName[]) assert.ok(checkRest(name, 42), name);
    } finally {
      console.warn = original;
    }
    assert.deepEqual(warnings, []);
  });
});

describe('dojo schemas: REST', () => {
  it('turns OpenAPI nullable into something ajv accepts', () => {
    assert.equal(checkRest('ProblemDetails', { type: null, title: null, status: null, detail: 'd', extensions: {} }), undefined);
    assert.match(checkRest('ProblemDetails', { status: '400' }) ?? '', /body\/status must be integer,null/);
  });

  it('keeps terminal session statuses open and money in integer minor units', () => {
    const session = restApi.paths['/terminal-sessions/{terminalSessionId}'].get.responses['200'].content['application/json'].example;
    assert.equal(checkRest('TerminalSession', { ...session, status: 'Frozen' }), undefined);
    assert.equal(checkRest('TerminalSession', { ...session, somethingNew: true }), undefined);
    const sessionRequests = Object.values<Json>(restApi.paths['/terminal-sessions'].post.requestBody.content['application/json'].examples);
    assert.ok(sessionRequests.length > 0);
    for (const { value } of sessionRequests) {
      assert.equal(checkRest('CreateTerminalSessionRequest', value), undefined);
      assert.match(checkRest('CreateTerminalSessionRequest', { ...value, colour: 'red' }) ?? '', /body\/colour is not a member/);
    }
    const refund = restApi.components.schemas.CreateRefundRequest.example;
    assert.equal(checkRest('CreateRefundRequest', refund), undefined);
    assert.match(checkRest('CreateRefundRequest', { ...refund, amount: 12.5 }) ?? '', /body\/amount must be integer/);
  });
});

/**
 * Examples in the specs that contradict the spec's own schema (checked against the derived
 * schema, keyed by "<where> <direction>"). Each must still fail for the stated reason, so a
 * corrected spec shows up here; every other example must pass.
 */
const SPEC_EXAMPLE_CONTRADICTIONS: Record<string, RegExp> = {
  'Customer example inbound': /phoneNumber must be string/, // a number in the example
  'Customer example outbound': /phoneNumber must be string/,
  'Discount example inbound': /'amountTotal'/, // the examples use another vocabulary (value, amount, ...)
  'Discount example outbound': /'amountTotal'/,
  'Discount x-examples.Example 1 inbound': /'amountTotal'/,
  'Discount x-examples.Example 1 outbound': /'amountTotal'/,
  'Order example outbound': /'status'/, // wrapped in { order: ... }
  'Order x-examples.0 outbound': /'status'/, // an empty placeholder
  'OrderBill example outbound': /modifiers\/0 .*'amountPerModifier'/, // modifiers priced with amountPerItem
  'OrderItem x-examples.Example 1 inbound': /'amountPerItem'/, // `price` instead
  'OrderItem x-examples.Example 1 outbound': /'amountPerItem'/,
  'OrderSubItem x-examples.Example 1 inbound': /'amountPerItem'/,
  'OrderSubItem x-examples.Example 1 outbound': /'amountPerItem'/,
  'CollectionDetails example outbound': /collectionTime/, // the schema calls it collectAt
  'CreatePartyRequest example inbound': /'dojoPartyId'/,
  'POST /payment-intents request Manual': /AutoExpireAction/, // PascalCase in a closed schema
};

describe('dojo schemas: the specs\' own examples', () => {
  const seen = new Set<string>();
  const expect = (key: string, why: string | undefined) => {
    seen.add(key);
    const contradiction = SPEC_EXAMPLE_CONTRADICTIONS[key];
    if (contradiction) assert.match(why ?? 'valid', contradiction, `${key} contradicts its schema`);
    else assert.equal(why, undefined, key);
  };

  it('AsyncAPI examples validate: message examples (none today) and schema examples', () => {
    let count = 0;
    for (const [method, channel] of Object.entries<Json>(asyncApi.channels)) {
      for (const example of channel.subscribe?.message?.examples ?? []) {
        count++;
        expect(`${method} request example`, checkParams(method, example.payload?.params));
      }
      for (const example of channel.publish?.message?.examples ?? []) {
        if (!example.payload || !('result' in example.payload)) continue;
        count++;
        expect(`${method} response example`, checkResult(method, example.payload.result));
      }
    }
    for (const [name, schema] of Object.entries<Json>(asyncApi.components.schemas)) {
      const examples: Array<[string, unknown]> = [];
      if ('example' in schema) examples.push(['example', schema.example]);
      for (const [k, v] of Object.entries(schema['x-examples'] ?? {})) examples.push([`x-examples.${k}`, v]);
      for (const direction of ['inbound', 'outbound'] as const) {
        if (!defs[direction][name]) continue;
        const validate = compileSchema({ $ref: `#/$defs/${name}`, $defs: defs[direction] });
        for (const [label, example] of examples) {
          count++;
          expect(`${name} ${label} ${direction}`, validate(example) ? undefined : validate.explain());
        }
      }
    }
    assert.ok(count > 20, `checked ${count} examples`);
  });

  it('dojo-api.json examples of the REST schemas we use validate', () => {
    const names = Object.keys((derived as Json).rest) as RestSchemaName[];
    let count = 0;
    for (const name of names) {
      const example = restApi.components.schemas[name].example;
      if (example === undefined) continue;
      count++;
      expect(`${name} component example`, checkRest(name, example));
    }
    for (const [route, operations] of Object.entries<Json>(restApi.paths)) {
      for (const [verb, operation] of Object.entries<Json>(operations)) {
        if (!operation || typeof operation !== 'object' || !operation.responses) continue;
        const bodies: Array<[string, Json]> = Object.entries<Json>(operation.responses);
        if (operation.requestBody) bodies.unshift(['request', operation.requestBody]);
        for (const [which, body] of bodies) {
          for (const media of Object.values<Json>(body.content ?? {})) {
            const isArray = !media.schema?.$ref && media.schema?.items?.$ref;
            const name = String((isArray ? media.schema.items.$ref : media.schema?.$ref) ?? '').split('/').pop() as RestSchemaName;
            if (!names.includes(name)) continue;
            const examples: Array<[string, unknown]> = [];
            if ('example' in media) examples.push(['', media.example]);
            for (const [k, v] of Object.entries<Json>(media.examples ?? {})) examples.push([` ${k}`, v.value]);
            for (const [label, example] of examples) {
              for (const value of isArray ? (example as unknown[]) : [example]) {
                count++;
                expect(`${verb.toUpperCase()} ${route} ${which}${label}`, checkRest(name, value));
              }
            }
          }
        }
      }
    }
    assert.ok(count >= 10, `checked ${count} examples`);
  });

  it('lists no contradiction the specs no longer have', () => {
    for (const key of Object.keys(SPEC_EXAMPLE_CONTRADICTIONS)) assert.ok(seen.has(key), `${key} was not met`);
  });
});

describe('dojo schemas: derivation', () => {
  it('records the spec files and their sha256', () => {
    const specs = (derived as Json).specs as Record<string, string>;
    assert.deepEqual(Object.keys(specs).sort(), ['dojo-api.json', 'dojo-epos-data-asyncapi.yml']);
    for (const hash of Object.values(specs)) assert.match(hash, /^[0-9a-f]{64}$/);
  });

  it('--check passes on the committed file', () => {
    const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /match/);
  });

  it('--check fails on a modified copy, and a fresh derivation equals the committed file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dojo-schemas-'));
    try {
      const committed = fs.readFileSync(path.join(repoRoot, 'lib', 'providers', 'dojo', 'schemas.generated.json'), 'utf8');
      const copy = path.join(dir, 'copy.json');
      const modified = committed.replace('"SearchOrders"', '"SearchOrder"');
      assert.notEqual(modified, committed);
      fs.writeFileSync(copy, modified);
      const stale = spawnSync(process.execPath, [script, '--check', '--out', copy], { encoding: 'utf8' });
      assert.equal(stale.status, 1);
      assert.match(stale.stderr, /out of date/);

      const fresh = path.join(dir, 'fresh.json');
      assert.equal(fs.existsSync(fresh), false);
      const write = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, DOJO_SCHEMAS_OUT: fresh } });
      assert.equal(write.status, 0, write.stderr);
      assert.equal(fs.readFileSync(fresh, 'utf8'), committed);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs the script on a doctored copy of the specs, never touching the repository. */
  function deriveFrom(doctor: (asyncText: string, restText: string) => [string, string], args: string[]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dojo-specs-'));
    try {
      const [asyncText, restText] = doctor(
        fs.readFileSync(path.join(specDir, 'dojo-epos-data-asyncapi.yml'), 'utf8'),
        fs.readFileSync(path.join(specDir, 'dojo-api.json'), 'utf8'),
      );
      fs.writeFileSync(path.join(dir, 'dojo-epos-data-asyncapi.yml'), asyncText);
      fs.writeFileSync(path.join(dir, 'dojo-api.json'), restText);
      const out = path.join(dir, 'out.json');
      const run = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { ...process.env, DOJO_SPEC_DIR: dir, DOJO_SCHEMAS_OUT: out } });
      return { ...run, written: fs.existsSync(out) };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('--check notices a new spec even when the schemas come out the same', () => {
    const committed = path.join(repoRoot, 'lib', 'providers', 'dojo', 'schemas.generated.json');
    const run = deriveFrom((a, r) => [a + '\n# a new revision\n', r], ['--check', '--out', committed]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /out of date/);
  });

  it('fails when a capability is not a CapabilityName of the REST spec', () => {
    const run = deriveFrom((a, r) => [a, r.replace(', GetOrderBill)', ')')], []);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /GetOrderBillByIdV1: capability "GetOrderBill" is not a CapabilityName/);
    assert.equal(run.written, false);
  });
});
