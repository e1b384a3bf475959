// One check, the same for every provider: settings, address, TLS, handshake, authentication,
// terminals, the provider's own facts, and (only when asked, never in production) one small
// test payment followed by a look-up of it. It stops at the first step that fails, and it
// always closes what it opened (adapter, simulator) within about 2 s.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PaymentAttempt, PaymentProvider } from '../core/provider';
import { makeRedactor, type Redactor } from '../core/redact';
import type { PaymentResult, Terminal } from '../core/types';
import { tapSafely, type WireTap } from '../core/wire-log';
import { probeNetwork } from './network';
import type { CheckFact, CheckInput, CheckReport, CheckStep, CheckTarget, FrameLog, ProviderCheck } from './types';
import { waitForVerdict } from './wait';

const DEFAULT_TIMEOUT_MS = 10_000;
/** Frames kept for reading facts; a check is short, so this only guards against a flood. */
const MAX_FRAMES = 2000;
/** Longest a test payment may take on a sandbox terminal (a person may have to tap a card). */
const PAY_TIMEOUT_MS = 120_000;
/** stop() promises 2 s; this is the check's own limit on waiting for it. */
const STOP_LIMIT_MS = 2000;
const MAX_LISTEN_MS = 300_000;

export async function runCheck(check: ProviderCheck, input: CheckInput): Promise<CheckReport> {
  const secrets = Object.values(input.secrets);
  const redact = makeRedactor(secrets);
  const steps: CheckStep[] = [];
  const facts: Record<string, CheckFact> = {};
  const report = (): CheckReport => ({
    provider: check.provider,
    ok: steps.length > 0 && steps.every((s) => s.ok),
    steps: steps.map((s) => ({ ...s, detail: redact(s.detail) })),
    // Facts quote what servers said; they pass the same redactor.
    facts: redactFacts(facts, redact),
  });
  const add = (step: CheckStep): boolean => {
    steps.push(step);
    return step.ok;
  };

  const missing = check.required(input);
  if (missing.length > 0) {
    add({ name: 'settings', ok: false, detail: `missing: ${missing.join(', ')}` });
    return report();
  }
  if (input.pay && input.environment === 'production') {
    add({ name: 'settings', ok: false, detail: 'a test payment is refused in production: use --pay only with the test (sandbox), simulator or custom environment' });
    return report();
  }
  if (input.pay && (!Number.isSafeInteger(input.pay.amount) || input.pay.amount < 1)) {
    add({ name: 'settings', ok: false, detail: 'the test payment amount must be a whole number of minor units above 0 (e.g. 100 for 1.00)' });
    return report();
  }

  const observed: FrameLog = { frames: [] };
  const wire: WireTap = (direction, text, channel) => {
    if (observed.frames.length < MAX_FRAMES) observed.frames.push({ direction, text });
    tapSafely(input.wire, direction, text, channel);
  };
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let target: CheckTarget | undefined;
  try {
    try {
      target = await check.build({ ...input, timeoutMs }, wire, observed);
    } catch (err) {
      add({ name: 'settings', ok: false, detail: (err as Error).message });
      return report();
    }
    if (input.pay && !target.provider.capabilities.pay) {
      add({ name: 'settings', ok: false, detail: `${check.provider} takes no payments through this pack, so there is nothing for --pay to try; leave it out` });
      return report();
    }
    add({ name: 'settings', ok: true, detail: 'complete' });
    for (const step of await probeNetwork(target.address, { verifyTls: input.verifyTls !== false, timeoutMs, ...(input.lookup ? { lookup: input.lookup } : {}) })) {
      if (!add(step)) return report();
    }
    const sink = (name: string, fact: CheckFact) => {
      facts[name] = fact;
    };
    if (!(await connect(check, target, timeoutMs, add))) {
      const last = steps[steps.length - 1];
      if (last?.name === 'handshake' && target.afterHandshakeFailed) {
        await stopWithin(target.provider);
        await target.afterHandshakeFailed(sink).catch(() => undefined);
      }
      return report();
    }
    let terminals: Terminal[] = [];
    if (target.provider.capabilities.terminals) {
      try {
        terminals = await target.provider.listTerminals();
        const names = terminals.slice(0, 10).map((t) => `${t.id} (${t.status})`).join(', ');
        add({ name: 'terminals', ok: true, detail: `${terminals.length} listed${names ? `: ${names}` : ''}` });
      } catch (err) {
        add({ name: 'terminals', ok: false, detail: `the terminal list failed: ${(err as Error).message}` });
        return report();
      }
    }
    if (input.listenMs && input.listenMs > 0) await sleep(Math.min(input.listenMs, MAX_LISTEN_MS));
    if (target.facts) {
      try {
        await target.facts(sink);
        const advised = Object.entries(facts).filter(([, f]) => f.advice);
        add({ name: 'facts', ok: true, detail: advised.length ? `checked; set: ${advised.map(([, f]) => f.advice).join('; ')}` : 'checked; the defaults fit this account' });
      } catch (err) {
        add({ name: 'facts', ok: false, detail: `the provider facts could not be checked: ${(err as Error).message}` });
        return report();
      }
    }
    if (input.pay) {
      await testPayment(check, target, input.pay, terminals, add, redact);
      target.factsAfterPay?.(sink);
    }
    return report();
  } finally {
    await stopWithin(target?.provider);
    await target?.cleanup?.().catch(() => undefined);
  }
}

/** `handshake` and `authenticated`, from the adapter's first verdict. */
async function connect(check: ProviderCheck, target: CheckTarget, timeoutMs: number, add: (s: CheckStep) => boolean): Promise<boolean> {
  target.provider.start();
  const v = await waitForVerdict(target.provider, timeoutMs, target.ready);
  const seconds = Math.round(timeoutMs / 100) / 10;
  switch (v.kind) {
    case 'connected':
      add({ name: 'handshake', ok: true, detail: 'the server answered and the connection is open' });
      return add({ name: 'authenticated', ok: true, detail: `the ${check.credentialLabel} was accepted` });
    case 'refused':
      add({ name: 'handshake', ok: true, detail: 'the server answered' });
      return add({ name: 'authenticated', ok: false, detail: `no, the ${check.credentialLabel} was refused (${v.reason}); check it, and that it belongs to this environment${check.refusedHint ? `; ${check.refusedHint}` : ''}` });
    case 'failed':
      if (/handshake|timed out|no socket\.io handshake/i.test(v.reason)) {
        return add({ name: 'handshake', ok: false, detail: `the server accepted the connection but never answered the handshake (${v.reason}); check the URL points at the provider's WebSocket service` });
      }
      return add({ name: 'handshake', ok: false, detail: `the connection failed: ${v.reason}` });
    case 'timeout':
      return add({ name: 'handshake', ok: false, detail: `no answer to the handshake within ${seconds} s (still ${v.last.name}); check the URL points at the provider's WebSocket service` });
  }
}

async function testPayment(
  check: ProviderCheck, target: CheckTarget, pay: NonNullable<CheckInput['pay']>, terminals: Terminal[],
  add: (s: CheckStep) => boolean, redact: Redactor,
): Promise<void> {
  const provider = target.provider;
  const terminal = pay.terminalId ? terminals.find((t) => t.id === pay.terminalId) : terminals.find((t) => t.status === 'available') ?? terminals[0];
  const terminalId = pay.terminalId ?? terminal?.id;
  if (provider.capabilities.terminals && !terminalId) {
    add({ name: 'payment', ok: false, detail: 'no terminal to pay on: none is listed; pass --terminalId' });
    return;
  }
  const raw = terminal?.raw as { currency?: unknown } | undefined;
  const currency = pay.currency ?? (typeof raw?.currency === 'string' ? raw.currency : check.defaultCurrency);
  const reference = `check-${randomUUID()}`;
  const attemptId = randomUUID();
  const notes: Record<string, unknown> = {};
  const request = { kind: 'sale' as const, amount: pay.amount, currency, reference, ...(terminalId ? { terminalId } : {}) };
  const attempt: PaymentAttempt = {
    request, attemptId, deadline: Date.now() + PAY_TIMEOUT_MS,
    onProgress: () => undefined,
    note: async (n) => {
      Object.assign(notes, n);
    },
  };
  let result: PaymentResult;
  try {
    result = await provider.pay(attempt);
  } catch (err) {
    add({ name: 'payment', ok: false, detail: `the test payment failed: ${redact((err as Error).message)}` });
    return;
  }
  const settled = result.outcome !== 'unknown' && result.outcome !== 'failed';
  const where = terminalId ? ` on ${terminalId}` : '';
  if (!add({ name: 'payment', ok: settled, detail: `${result.outcome}: ${pay.amount} minor units ${currency}${where}${result.transactionId ? `, transaction ${result.transactionId}` : ''}${settled ? '' : ` (${result.message ?? 'no reason given'})`}` })) return;
  const found = await provider.lookup({ request, attemptId, startedAt: new Date().toISOString(), notes });
  if (found.found === 'result') {
    const same = found.result.outcome === result.outcome;
    add({ name: 'lookup', ok: same, detail: same ? `the look-up found the payment (${found.result.outcome})` : `the look-up says ${found.result.outcome} where the payment said ${result.outcome}` });
  } else {
    const why = found.found === 'cannot_ask' ? found.reason : found.found === 'nothing' ? 'the provider has no record of it' : 'it is still running';
    add({ name: 'lookup', ok: false, detail: `the look-up did not find the payment just taken: ${why}` });
  }
}

async function stopWithin(provider: PaymentProvider | undefined): Promise<void> {
  if (!provider) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    provider.stop().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
}

/** The facts through the redactor; should masking break the JSON (a secret like `true`), they are withheld rather than shown. */
function redactFacts(facts: Record<string, CheckFact>, redact: Redactor): Record<string, CheckFact> {
  try {
    return JSON.parse(redact(JSON.stringify(facts))) as Record<string, CheckFact>;
  } catch {
    return {};
  }
}
