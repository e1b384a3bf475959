// The wire log keeps what explains a problem and nothing that must not be written down:
// secrets, card numbers beyond the last four digits, a person's details. Checked field by
// field against what the simulators send, and end to end with a payment on each simulator.
// The file never grows past its bound, and rotation keeps a fixed number of files.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFor, runCheck } from '../../lib/check';
import { makeRedactor } from '../../lib/core/redact';
import { WireLog } from '../../lib/core/wire-log';
import { redactFrame } from '../../lib/core/wire-redact';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { DojoSimulator } from '../../lib/simulators/dojo';
import { ModulusSimulator } from '../../lib/simulators/modulus';
import { SensePassSimulator } from '../../lib/simulators/sensepass';
import { QuickPaySimulator, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../lib/simulators/quickpay';

describe('wire log: redaction of single frames', () => {
  const redact = makeRedactor(['tok-SECRET-1234', 'dev_SECRET_99']);

  it('masks every secret field the providers send, by name and wherever a known secret appears', () => {
    const out = redactFrame(JSON.stringify({
      token: 't1', apiKey: 'k1', 'x-api-key': 'k2', apiSecret: 's1', auth: 'app:hmac', channel_data: '{"user_id":"u"}', privateKey: 'pem',
      Authorization: 'Basic sk_x', deviceId: 'd1', signature: 'sig', jwt: 'a.b.c', note: 'said tok-SECRET-1234 and dev_SECRET_99',
      url: 'wss://x/pac?token=abc&api-version=v1',
    }), redact);
    for (const leaked of ['t1', 'k1', 'k2', 's1', 'app:hmac', 'user_id', '"pem"', 'sk_x', 'd1', '"sig"', 'a.b.c', 'tok-SECRET-1234', 'dev_SECRET_99', 'token=abc']) {
      assert.ok(!out.includes(leaked), `${leaked} leaked: ${out}`);
    }
    assert.match(out, /"api-version=v1"|api-version=v1/, 'non-secret parts of a URL stay');
  });

  it('keeps the last four digits of a card number and nothing before them, in fields and in receipt text', () => {
    const out = redactFrame(JSON.stringify({
      result: {
        primaryAccountNumber: '4761739001010119', cardNumber: '476173******0119', maskedPan: '************4242', last4PAN: '0119',
        receiptLines: { CUSTOMER: [{ type: 'TEXT', value: 'VISA 476173******0119' }, { value: 'CARD 5555 5555 5555 4444' }] },
        cardHolderName: 'SIM CARDHOLDER', card: { cardName: 'A PERSON' }, expiryDate: '12/29', customerEmail: 'a@b.c', email: 'x@y.z',
      },
    }), redact);
    for (const leaked of ['476173', '4761739001', '5555 5555', 'SIM CARDHOLDER', 'A PERSON', '12/29', 'x@y.z']) assert.ok(!out.includes(leaked), `${leaked} leaked: ${out}`);
    assert.match(out, /"primaryAccountNumber":"\*{12}0119"/);
    assert.match(out, /"cardNumber":"\*{12}0119"/);
    assert.match(out, /VISA \*{12}0119/);
    assert.match(out, /CARD \*+4444/);
    assert.match(out, /"last4PAN":"0119"/, 'the last four are kept for matching a receipt');
  });

  it("opens Pusher's JSON-in-a-string data and Socket.IO's numbered frames, and copes with text and deep frames", () => {
    const pusher = redactFrame(JSON.stringify({ event: 'payment.status.updated', channel: 'private-payments.m1', data: JSON.stringify({ payment_id: 'p1', cardNumber: '4111111111111111', email: 'e@x.y' }) }), redact);
    assert.ok(!pusher.includes('411111111111') && !pusher.includes('e@x.y'), pusher);
    assert.match(pusher, /p1/);
    const io = redactFrame(`42${JSON.stringify(['message', { deviceId: 'dev_SECRET_99', status: 5 }])}`, redact);
    assert.ok(io.startsWith('42[') && !io.includes('dev_SECRET_99'), io);
    assert.equal(redactFrame('not json 4111111111111111 tok-SECRET-1234', redact), 'not json ************1111 ***');
    let deep: unknown = { pan: '4111111111111111' };
    for (let i = 0; i < 200; i += 1) deep = { d: deep };
    assert.doesNotThrow(() => redactFrame(JSON.stringify(deep), redact));
    assert.ok(!redactFrame(JSON.stringify(deep), redact).includes('4111111111111111'));
  });
});

describe('wire log: file bound and rotation', () => {
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-wire-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('rotates at maxBytes and keeps exactly `keep` old files, none larger than the bound', () => {
    const log = new WireLog({ dir, name: 'pos-paymentsense-abc', secrets: [], maxBytes: 2048, keep: 2 });
    for (let i = 0; i < 200; i += 1) log.write(i % 2 ? 'in' : 'out', JSON.stringify({ method: 'transactionNotification', params: { n: i, pad: 'x'.repeat(40) } }));
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, ['pos-paymentsense-abc.1.log', 'pos-paymentsense-abc.2.log', 'pos-paymentsense-abc.log']);
    for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).size <= 2048, `${f}: ${fs.statSync(path.join(dir, f)).size}`);
    const newest = fs.readFileSync(path.join(dir, 'pos-paymentsense-abc.log'), 'utf8');
    assert.match(newest, /"n":199/, 'the newest frame is in the current file');
    assert.match(newest, /^\d{4}-\d\d-\d\dT[^ ]+ (<-|->) \{/m);
  });

  it('cuts a huge frame, keeps file names to a safe alphabet, and stops quietly (once) when it cannot write', () => {
    const log = new WireLog({ dir, name: '../../etc/passwd', secrets: [], maxFrameChars: 300 });
    log.write('in', JSON.stringify({ big: 'y'.repeat(5000) }));
    assert.equal(path.dirname(log.file), dir);
    assert.match(fs.readFileSync(log.file, 'utf8'), /… \(\d+ chars\)/);
    const errors: string[] = [];
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, '');
    const broken = new WireLog({ dir: path.join(blocked, 'sub'), name: 'x', secrets: [], onError: (m) => errors.push(m) });
    broken.write('in', '{}');
    broken.write('in', '{}');
    assert.equal(errors.length, 1);
  });
});

describe('wire log: a payment on every simulator leaves no secret or card data in the file', function () {
  this.timeout(20000);
  let dir = '';
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-wire-e2e-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ provider: string; start: () => Promise<{ url: string; stop: () => Promise<void> }>; fields: Record<string, string>; secrets: Record<string, string>; pay: boolean }> = [
    { provider: 'paymentsense', start: async () => { const s = new PaymentsenseSimulator({ token: 'ps-SECRET-token-77', stepDelayMs: 5 }); const { url } = await s.start(); return { url, stop: () => s.stop() }; },
      fields: { softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'ps-SECRET-token-77' }, pay: true },
    { provider: 'dojo', start: async () => { const s = new DojoSimulator({ apiKeys: ['sk_sandbox_SECRET_dojo'], stepDelayMs: 5 }); const { url } = await s.start(); return { url, stop: () => s.stop() }; },
      fields: { softwareHouseId: 'softwareHouse1' }, secrets: { apiKey: 'sk_sandbox_SECRET_dojo' }, pay: true },
    { provider: 'modulus', start: async () => { const s = new ModulusSimulator({ apiKeys: ['mk_SECRET_key'], apiSecret: 'mk_SECRET_secret', stepDelayMs: 5 }); const { url } = await s.start(); return { url, stop: () => s.stop() }; },
      fields: {}, secrets: { apiKey: 'mk_SECRET_key', apiSecret: 'mk_SECRET_secret' }, pay: true },
    { provider: 'sensepass', start: async () => { const s = new SensePassSimulator({ deviceIds: ['dev_SECRET_sp_1'], stepDelayMs: 5 }); const { url } = await s.start(); return { url, stop: () => s.stop() }; },
      fields: {}, secrets: { deviceId: 'dev_SECRET_sp_1' }, pay: true },
    { provider: 'quickpay', start: async () => { const s = new QuickPaySimulator({ apiKeys: ['qp_SECRET_key'], rateIntervalMs: 20, paymentIntervalMs: 20 }); const { apiUrl } = await s.start(); return { url: apiUrl, stop: () => s.stop() }; },
      fields: { merchantId: SIMULATOR_MERCHANT_ID }, secrets: { apiKey: 'qp_SECRET_key', privateKey: simulatorKeys().privateKeyPem }, pay: false },
  ];
  for (const c of cases) {
    it(`${c.provider}`, async () => {
      const sim = await c.start();
      try {
        const log = new WireLog({ dir, name: c.provider, secrets: Object.values(c.secrets) });
        const check = checkFor(c.provider)!;
        const report = await runCheck(check, { environment: 'custom', url: sim.url, fields: c.fields, secrets: c.secrets, timeoutMs: 5000, wire: log.tap, ...(c.pay ? { pay: { amount: 1000 } } : {}) });
        assert.equal(report.ok, true, JSON.stringify(report.steps));
        const text = fs.readFileSync(log.file, 'utf8');
        assert.ok(text.split('\n').length > 2, 'frames were logged');
        assert.doesNotMatch(text, /SECRET/, 'no secret in the wire log');
        assert.doesNotMatch(text, /BEGIN (RSA )?PRIVATE KEY/);
        // A card number stands alone; the simulators' hex ids may start with a dozen digits, then a letter.
        const card = /(?<![A-Za-z0-9])(\d{5}[*]|\d{12,19}(?![A-Za-z0-9]))/.exec(text);
        assert.equal(card, null, `no card number beyond its last four digits: ${card ? text.slice(Math.max(0, card.index - 120), card.index + 40) : ''}`);
        assert.doesNotMatch(text, /"(dateOfExpiry|expiryDate)":"\d/, 'no card expiry date');
        assert.doesNotMatch(text, /SIM CARDHOLDER/i);
        assert.doesNotMatch(text, /"auth":"[^*"]/, 'no Pusher channel signature');
        if (c.provider === 'quickpay') assert.match(text, /-> \{"event":"pusher:subscribe","data":\{"auth":"\*\*\*"/, 'frames we send are logged too, signature masked');
      } finally {
        await sim.stop();
      }
    });
  }
});
