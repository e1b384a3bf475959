// Validation of Dojo's EPOS Data methods and REST bodies against schemas derived from Dojo's
// own published specs (scripts/derive-dojo-schemas.js), never retyped. Validators compile on
// first use and are cached: Node-RED start time is benchmarked and most flows use a handful
// of the ~40 schemas.

import { compileSchema, type Validator } from '../../core/schema';
import derived from './schemas.generated.json';

export interface DojoMethodInfo { readonly method: string; readonly capabilities: readonly string[] }

export type RestSchemaName =
  | 'TerminalSession' | 'PaymentIntent' | 'Terminal' | 'ProblemDetails' | 'Refund' | 'Capture' | 'Reversal'
  | 'CreatePaymentIntentRequest' | 'CreateTerminalSessionRequest' | 'CreateRefundRequest' | 'CreateCaptureRequest' | 'WsIntegrationRequest';

type Direction = 'inbound' | 'outbound';
interface DerivedMethod { method: string; capabilities: string[]; params: object; paramsOptional: boolean; result: object }
interface DerivedRest { direction: Direction; schema: object }
interface Derived {
  methods: DerivedMethod[];
  eposErrorTypes: string[];
  rest: Record<RestSchemaName, DerivedRest>;
  defs: Record<Direction, Record<string, object>>;
}

const spec = derived as unknown as Derived;
const byMethod = new Map<string, DerivedMethod>(spec.methods.map((m) => [m.method, m]));

/** Every EPOS Data method in the AsyncAPI, HandleEventV1 included. */
export const DOJO_METHODS: readonly DojoMethodInfo[] = Object.freeze(
  spec.methods.map((m) => Object.freeze({ method: m.method, capabilities: Object.freeze([...m.capabilities]) })),
);

/** EPOSErrorType values, the catch-all 'UnexpectedError' first. */
export const EPOS_ERROR_TYPES: readonly string[] = Object.freeze([
  'UnexpectedError',
  ...spec.eposErrorTypes.filter((t) => t !== 'UnexpectedError'),
]);

const capabilityIndex = new Map<string, readonly string[]>(DOJO_METHODS.map((m) => [m.method, m.capabilities]));

export function isDojoMethod(method: string): boolean {
  return byMethod.has(method);
}

/** Capability names to register for a method; [] for an unknown method. */
export function capabilitiesOf(method: string): readonly string[] {
  return capabilityIndex.get(method) ?? [];
}

const cache = new Map<string, Validator<unknown>>();

/** Each schema compiles standalone with the reachable definitions of its direction as $defs. */
function validator(key: string, direction: Direction, schema: object): Validator<unknown> {
  let v = cache.get(key);
  if (!v) {
    v = compileSchema<unknown>({ ...schema, $defs: spec.defs[direction] });
    cache.set(key, v);
  }
  return v;
}

/**
 * ajv says "(root) must …" or "/a/0/b must …"; name the part of the message instead. Closed
 * objects are derived as `additionalProperties: { not: {} }`, whose "must NOT be valid" is
 * reported at the unknown member's path.
 */
function reason(label: string, v: Validator<unknown>): string {
  return v
    .explain()
    .split('; ')
    .map((part) => (part.startsWith('(root) ') ? `${label} ${part.slice(7)}` : `${label}${part}`))
    .map((part) => part.replace(/ must NOT be valid$/, ' is not a member the Dojo spec defines'))
    .join('; ');
}

function check(method: string, part: 'params' | 'result', value: unknown): string | undefined {
  const entry = byMethod.get(method);
  if (!entry) return `unknown Dojo method ${JSON.stringify(String(method)).slice(0, 80)}`;
  // JSON-RPC lets a request omit params; the spec allows that only where the envelope does not require them (ListAreasV1).
  if (part === 'params' && value === undefined && entry.paramsOptional) return undefined;
  const v = validator(`${part}:${method}`, part === 'params' ? 'inbound' : 'outbound', entry[part]);
  return v(value) ? undefined : `${method} ${reason(part, v)}`;
}

/** Why `params` is not valid for `method` (one readable line), or undefined when valid. Unknown method -> a reason. */
export function checkParams(method: string, params: unknown): string | undefined {
  return check(method, 'params', params);
}

/** Why `result` (our answer) is not valid for `method`, or undefined when valid. Unknown method -> a reason. */
export function checkResult(method: string, result: unknown): string | undefined {
  return check(method, 'result', result);
}

/** Why `value` does not match the REST schema `name`, or undefined when valid. */
export function checkRest(name: RestSchemaName, value: unknown): string | undefined {
  const entry = spec.rest[name];
  if (!entry) return `unknown Dojo REST schema ${JSON.stringify(String(name))}`;
  const v = validator(`rest:${name}`, entry.direction, entry.schema);
  return v(value) ? undefined : `${name} ${reason('body', v)}`;
}
