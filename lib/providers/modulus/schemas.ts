// ajv schemas for everything the gateway sends us. Modulus publishes no machine-readable
// spec, so these are written from the protocol notes: documented fields must have the
// documented type when present, everything else is allowed, and enum values stay open
// (strings) so a new status reaches `raw` instead of being dropped.

import { compileSchema } from '../../core/schema';
import type {
  WireErrorFrame, WireForceDisconnect, WireFrame, WirePaymentComplete, WirePaymentResponse, WirePaymentVoided,
  WireStatusUpdate, WireTerminal, WireTerminalsResponse, WireTransaction,
} from './wire';

const str = { type: 'string' } as const;
const obj = { type: 'object' } as const;
const amount = { type: ['string', 'number'] } as const;

const terminal = {
  type: 'object',
  properties: {
    deviceId: str, terminalId: str, connectionId: str, status: str, connectedAt: str, lastActivity: str, metadata: obj,
  },
  anyOf: [{ required: ['deviceId'] }, { required: ['terminalId'] }, { required: ['connectionId'] }],
} as const;

const paymentResponse = {
  type: 'object',
  required: ['transactionId', 'status'],
  properties: {
    transactionId: str, status: str, amount, currency: str, paymentMethod: str, authorizationCode: str,
    errorCode: str, errorMessage: str, message: str, timestamp: str, metadata: obj,
  },
} as const;

export const isFrame = compileSchema<WireFrame>({ type: 'object', required: ['action'], properties: { action: str } });

export const isTerminal = compileSchema<WireTerminal>(terminal);

/** Items are checked one by one (isTerminal), so one odd entry does not hide the others. */
export const isTerminalsResponse = compileSchema<WireTerminalsResponse>({
  type: 'object', required: ['action', 'terminals'], properties: { action: str, terminals: { type: 'array' }, timestamp: str },
});

export const isStatusUpdate = compileSchema<WireStatusUpdate>({
  type: 'object',
  required: ['action', 'status'],
  properties: {
    action: str, status: str, terminalId: str, deviceId: str, connectionId: str, terminalInfo: obj,
    timestamp: str, groupId: str, version: str,
  },
  anyOf: [{ required: ['terminalId'] }, { required: ['deviceId'] }, { required: ['connectionId'] }],
});

export const isPaymentResponse = compileSchema<WirePaymentResponse>(paymentResponse);

export const isPaymentComplete = compileSchema<WirePaymentComplete>({
  type: 'object', required: ['action', 'paymentResponse'], properties: { action: str, terminalId: str, paymentResponse },
});

/** Fields undocumented: the transaction id is looked for at the top level or in a nested object (mapping.ts). */
export const isPaymentVoided = compileSchema<WirePaymentVoided>({
  type: 'object', required: ['action'],
  properties: { action: str, transactionId: str, terminalId: str, voidedAt: str, voidReason: str },
});

export const isForceDisconnect = compileSchema<WireForceDisconnect>({
  type: 'object', required: ['action'], properties: { action: str, reason: str },
});

/** A pong carries nothing we read beyond its action (extra fields such as timestamp are not confirmed). */
export const isPong = isFrame;

/** Error frames are read tolerantly: any of the usual fields, each with a sensible type. */
export const isErrorFrame = compileSchema<WireErrorFrame>({
  type: 'object',
  properties: {
    action: str, error: { type: ['string', 'object'] }, message: str, statusCode: { type: ['number', 'string'] },
    terminalId: str, transactionId: str,
  },
});

export const isTransaction = compileSchema<WireTransaction>({
  type: 'object',
  required: ['status'],
  properties: {
    transactionId: str, status: str, request: obj, response: obj, createdAt: str, updatedAt: str, completedAt: str,
    voidedAt: str, voidReason: str, timestamp: str,
  },
});
