// Reading POST /terminal-sessions: exactly one detail object, the one that matches sessionType
// (CreateTerminalSessionRequest in Dojo's spec). Shape only; the engine checks state.

import { Fields, bodyObject, isObject, readBoolean, readMoney, readString, type Json } from './input';
import type { Money } from './types';

export type SessionType = 'Sale' | 'MatchedRefund' | 'UnlinkedRefund';

const DETAIL_KEY: Readonly<Record<SessionType, 'sale' | 'matchedRefund' | 'unlinkedRefund'>> = {
  Sale: 'sale',
  MatchedRefund: 'matchedRefund',
  UnlinkedRefund: 'unlinkedRefund',
};

export interface SessionRequest {
  terminalId: string;
  sessionType: SessionType;
  paymentIntentId?: string;
  amount?: Money;
  cardholderNotPresent?: boolean;
}

export function readSessionRequest(body: unknown): SessionRequest {
  const b = bodyObject(body, true);
  const f = new Fields();
  const terminalId = readString(f, 'terminalId', b.terminalId, { required: true, max: 200 });
  if (!isObject(b.details)) {
    f.add('details', b.details === undefined || b.details === null ? 'The details field is required.' : 'The details field must be an object.');
    f.check();
  }
  const d = b.details as Json;
  const sessionType = readString(f, 'details.sessionType', d.sessionType, { required: true });
  if (sessionType !== undefined && !(sessionType in DETAIL_KEY)) {
    f.add('details.sessionType', `The sessionType must be one of ${Object.keys(DETAIL_KEY).join(', ')}.`);
  }
  f.check();

  const type = sessionType as SessionType;
  const key = DETAIL_KEY[type];
  const present = Object.values(DETAIL_KEY).filter((k) => d[k] !== undefined && d[k] !== null);
  if (present.length !== 1 || present[0] !== key) {
    f.add('details', `Give exactly one detail object, ${key}, to match sessionType ${type}.`);
    f.check();
  }
  const detail = d[key];
  if (!isObject(detail)) {
    f.add(`details.${key}`, `The ${key} field must be an object.`);
    f.check();
  }
  const o = detail as Json;
  const req: SessionRequest = { terminalId: terminalId as string, sessionType: type };
  if (type === 'Sale' || type === 'MatchedRefund') {
    const id = readString(f, `details.${key}.paymentIntentId`, o.paymentIntentId, { required: true, max: 200 });
    if (id !== undefined) req.paymentIntentId = id;
  }
  if (type === 'MatchedRefund' || type === 'UnlinkedRefund') {
    const amount = readMoney(f, `details.${key}.amount`, o.amount, { required: type === 'UnlinkedRefund' });
    if (amount) req.amount = amount;
  }
  if (type === 'UnlinkedRefund') {
    const cnp = readBoolean(f, `details.${key}.cardholderNotPresent`, o.cardholderNotPresent);
    if (cnp !== undefined) req.cardholderNotPresent = cnp;
  }
  f.check();
  return req;
}

/** The `details` echoed on the session, with the amount the terminal actually asks for. */
export function sessionDetails(req: SessionRequest, amount: Money): Json {
  switch (req.sessionType) {
    case 'Sale':
      return { sessionType: 'Sale', sale: { paymentIntentId: req.paymentIntentId } };
    case 'MatchedRefund':
      return { sessionType: 'MatchedRefund', matchedRefund: { paymentIntentId: req.paymentIntentId, amount: { ...amount } } };
    default: {
      const unlinkedRefund: Json = { amount: { ...amount } };
      if (req.cardholderNotPresent !== undefined) unlinkedRefund.cardholderNotPresent = req.cardholderNotPresent;
      return { sessionType: 'UnlinkedRefund', unlinkedRefund };
    }
  }
}
