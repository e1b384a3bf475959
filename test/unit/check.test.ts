// The connection check against every built-in simulator and its faults: each step holds, or
// the right step fails with a sentence saying what to change, and the check leaves no
// connection behind. Everything talks to 127.0.0.1 (DNS is stubbed for the unknown host).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { checkFor, runCheck, type CheckInput, type CheckReport } from '../../lib/check';
import { PaymentsenseSimulator } from '../../lib/simulators/paymentsense';
import { CAPABILITY_NAMES, DojoSimulator } from '../../lib/simulators/dojo';
import { ModulusSimulator } from '../../lib/simulators/modulus';
import { QuickPaySimulator, SIMULATOR_API_KEY, SIMULATOR_MERCHANT_ID, simulatorKeys } from '../../lib/simulators/quickpay';
import { SensePassSimulator } from '../../lib/simulators/sensepass';
import { needsTool } from '../support/needs-tool';
import { trackResources } from '../support/resources-left';

function check(provider: string, input: Partial<CheckInput>): Promise<CheckReport> {
  const c = checkFor(provider);
  assert.ok(c, provider);
  return runCheck(c, { environment: 'custom', fields: {}, secrets: {}, timeoutMs: 3000, ...input });
}

function step(report: CheckReport, name: string) {
  return report.steps.find((s) => s.name === name);
}

/** The first failed step, which must be the last one reported (a check stops there). */
function failed(report: CheckReport) {
  const f = report.steps.find((s) => !s.ok);
  assert.ok(f, `a step should have failed: ${JSON.stringify(report.steps)}`);
  assert.equal(report.steps[report.steps.length - 1], f, 'the check stops at the failed step');
  assert.equal(report.ok, false);
  return f;
}

async function eventually(test: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) assert.fail(what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('connection check: the simulator environment of every provider', function () {
  this.timeout(20000);
  for (const provider of ['paymentsense', 'dojo', 'modulus', 'quickpay', 'sensepass']) {
    it(`${provider}: every step holds, and the report has the documented shape`, async () => {
      const report = await check(provider, { environment: 'simulator' });
      assert.equal(report.provider, provider);
      assert.equal(report.ok, true, JSON.stringify(report.steps));
      const names = report.steps.map((s) => s.name);
      for (const n of ['settings', 'address', 'tls', 'handshake', 'authenticated']) assert.ok(names.includes(n as never), `${n} in ${names.join(',')}`);
      if (provider !== 'quickpay' && provider !== 'sensepass') assert.match(step(report, 'terminals')!.detail, /^\d+ listed/);
      for (const s of report.steps) assert.deepEqual(Object.keys(s).sort(), ['detail', 'name', 'ok']);
      assert.ok(Object.keys(report.facts).length > 0, 'at least one provider fact');
    });
  }

  it('paymentsense --pay: the test payment and its look-up, and the methods Connect used on the wire', async () => {
    const report = await check('paymentsense', { environment: 'simulator', pay: { amount: 1000 } });
    assert.equal(report.ok, true, JSON.stringify(report.steps));
    assert.match(step(report, 'payment')!.detail, /^approved/);
    assert.match(step(report, 'lookup')!.detail, /found the payment \(approved\)/);
    assert.deepEqual(report.facts.notificationMethods?.value, ['transactionNotification']);
  });

  it('a declined test payment is a result, and --pay on a provider that takes none says so', async () => {
    const declined = await check('modulus', { environment: 'simulator', pay: { amount: 1051 } });
    assert.equal(step(declined, 'payment')?.ok, true);
    assert.match(step(declined, 'payment')!.detail, /^declined/);
    const quickpay = await check('quickpay', { environment: 'simulator', pay: { amount: 100 } });
    assert.match(failed(quickpay).detail, /takes no payments/);
  });
});

describe('connection check: faults name the failed step', function () {
  this.timeout(20000);

  it('paymentsense: a refused token is "authenticated: no, the token was refused", and no socket stays open', async () => {
    const sim = new PaymentsenseSimulator({ token: 'the-right-token' });
    const { url } = await sim.start();
    try {
      const report = await check('paymentsense', { url, fields: { softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'a-wrong-token-123' } });
      const f = failed(report);
      assert.equal(f.name, 'authenticated');
      assert.match(f.detail, /^no, the token was refused/);
      assert.doesNotMatch(JSON.stringify(report), /a-wrong-token-123/, 'the token never appears in the report');
      assert.equal(sim.connectionCount, 0);
      assert.equal(sim.connectionAttempts, 1, 'one attempt: a check does not retry a refused token');
    } finally {
      await sim.stop();
    }
  });

  const refusals: Array<[string, () => Promise<{ url: string; stop: () => Promise<void> }>, Partial<CheckInput>, RegExp]> = [
    ['dojo', async () => { const s = new DojoSimulator(); const { url } = await s.start(); s.setFault('refuseKey', true); return { url, stop: () => s.stop() }; },
      { fields: { softwareHouseId: 'softwareHouse1' }, secrets: { apiKey: 'sk_sandbox_wrong' } }, /^no, the API key was refused/],
    ['modulus', async () => { const s = new ModulusSimulator(); const { url } = await s.start(); s.setFault('refuseKey', true); return { url, stop: () => s.stop() }; },
      { secrets: { apiKey: 'mk_wrong' } }, /^no, the API key was refused/],
    ['quickpay', async () => { const s = new QuickPaySimulator({ rateIntervalMs: 0, paymentIntervalMs: 0 }); const { apiUrl } = await s.start(); s.setFault('rejectAuth', true); return { url: apiUrl, stop: () => s.stop() }; },
      { fields: { merchantId: SIMULATOR_MERCHANT_ID }, secrets: { apiKey: 'qp_wrong', privateKey: simulatorKeys().privateKeyPem } }, /^no, the API key or private key was refused.*JWT uri claim/],
    ['sensepass', async () => { const s = new SensePassSimulator(); const { url } = await s.start(); s.setFault('refuseDevice', true); return { url, stop: () => s.stop() }; },
      { secrets: { deviceId: 'dev_wrong_1' } }, /^no, the device id was refused/],
  ];
  for (const [provider, start, input, expected] of refusals) {
    it(`${provider}: refused credentials fail at "authenticated"`, async () => {
      const sim = await start();
      try {
        const report = await check(provider, { url: sim.url, ...input });
        const f = failed(report);
        assert.equal(f.name, 'authenticated', JSON.stringify(report.steps));
        assert.match(f.detail, expected);
      } finally {
        await sim.stop();
      }
    });
  }

  it('an unknown host fails at "address" and says the host cannot be found', async () => {
    const lookup = async () => { throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }); };
    const report = await check('paymentsense', { environment: 'test', fields: { account: 'nosuchsite', softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'tok-1234' }, lookup });
    const f = failed(report);
    assert.equal(f.name, 'address');
    assert.match(f.detail, /no such host: nosuchsite\.test\.connect\.paymentsense\.cloud cannot be found/);
  });

  it('a closed port fails at "address" with "refused the connection"', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const report = await check('modulus', { url: `ws://127.0.0.1:${port}`, secrets: { apiKey: 'k' } });
    const f = failed(report);
    assert.equal(f.name, 'address');
    assert.match(f.detail, /refused the connection.*ECONNREFUSED/);
  });

  it('a server that never answers the handshake fails at "handshake" within the timeout, closing its socket', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); s.resume(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const report = await check('paymentsense', { url: `ws://127.0.0.1:${port}`, fields: { softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'tok-1234' }, timeoutMs: 800 });
      const f = failed(report);
      assert.equal(f.name, 'handshake');
      assert.match(f.detail, /never answered the handshake|no answer to the handshake/);
      assert.ok(Date.now() - started < 800 + 2500, `took ${Date.now() - started} ms`);
      await eventually(() => sockets.size === 0, 2000, 'the check left a socket open on the silent server');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  describe('TLS', () => {
    let dir = '';
    let server: tls.Server | undefined;
    let port = 0;
    before(function () {
      let openssl: string | undefined = 'openssl';
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
        openssl = undefined;
      } catch {
        // reported below
      }
      needsTool(this, { name: 'OpenSSL (to make a self-signed certificate)', missing: openssl, install: 'apt-get install openssl' });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-check-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    });
    before(async () => {
      if (!dir) return;
      server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (s) => s.end());
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as net.AddressInfo).port;
    });
    after(async () => {
      if (server) await new Promise((r) => server!.close(r));
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('a self-signed certificate fails at "tls" and says how to proceed', async () => {
      const report = await check('modulus', { url: `wss://127.0.0.1:${port}`, secrets: { apiKey: 'k' } });
      const f = failed(report);
      assert.equal(f.name, 'tls');
      assert.match(f.detail, /self-signed.*Verify TLS/);
      assert.equal(step(report, 'address')?.ok, true);
    });
  });
});

describe('connection check: settings and settled facts', function () {
  this.timeout(20000);

  it('a dialog with missing fields says which, before connecting', async () => {
    const report = await check('paymentsense', { environment: 'test', fields: { softwareHouseId: 'S' }, secrets: {} });
    const f = failed(report);
    assert.equal(f.name, 'settings');
    assert.equal(f.detail, 'missing: account, installerId, token');
    assert.equal(report.steps.length, 1);
    const custom = await check('dojo', { environment: 'custom', fields: {}, secrets: { apiKey: 'k' } });
    assert.equal(failed(custom).detail, 'missing: url, softwareHouseId');
  });

  it('--pay is refused in production', async () => {
    const report = await check('paymentsense', { environment: 'production', fields: { account: 'a', softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'tok-1234' }, pay: { amount: 100 } });
    assert.match(failed(report).detail, /refused in production/);
  });

  it('paymentsense without transactionDetails: the fact says so and which option to set', async () => {
    const sim = new PaymentsenseSimulator({ token: 'the-right-token' });
    const { url } = await sim.start();
    sim.setFault('noTransactionDetails', true);
    try {
      const report = await check('paymentsense', { url, fields: { softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'the-right-token' } });
      assert.equal(report.ok, true, JSON.stringify(report.steps));
      assert.equal(report.facts.lookupMethod?.value, 'none');
      assert.match(report.facts.lookupMethod?.advice ?? '', /transactionLookup: false/);
      assert.match(step(report, 'facts')!.detail, /^checked; set: untick "Look up lost results"/);
      sim.setFault('noTransactionDetails', false);
      const fine = await check('paymentsense', { url, fields: { softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'the-right-token' } });
      assert.equal(fine.facts.lookupMethod?.value, 'transactionDetails');
      assert.equal(fine.facts.lookupMethod?.advice, undefined);
    } finally {
      await sim.stop();
    }
  });

  it('sensepass: when the set Socket.IO client gets no handshake, the other one is tried and the report names the setting', async () => {
    const http = (await import('node:http')).createServer();
    const { Server } = await import('socket.io');
    // A Socket.IO 4 server without allowEIO3: the v2 client is refused, the v4 client connects.
    const io = new Server(http, { serveClient: false });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(http.address() as net.AddressInfo).port}`;
    try {
      const report = await check('sensepass', { url, fields: { clientVersion: '2' }, secrets: { deviceId: 'dev_1234' }, timeoutMs: 1500 });
      assert.equal(failed(report).name, 'handshake');
      assert.match(String(report.facts.socketIoServer?.value), /Socket\.IO 3 or 4/);
      assert.match(report.facts.socketIoServer?.advice ?? '', /set "Socket\.IO client" to 4/);
      await eventually(() => io.engine.clientsCount === 0, 2000, 'the check left a Socket.IO client connected');
    } finally {
      io.close();
      await new Promise((r) => http.close(r));
    }
  });

  it('quickpay with --listen: the event names that arrived, and the option to set when the payment event is another', async () => {
    const sim = new QuickPaySimulator({ rateIntervalMs: 0, paymentIntervalMs: 50, paymentEvent: 'payment.changed' });
    const { apiUrl } = await sim.start();
    try {
      const report = await check('quickpay', { url: apiUrl, fields: { merchantId: SIMULATOR_MERCHANT_ID }, secrets: { apiKey: SIMULATOR_API_KEY, privateKey: simulatorKeys().privateKeyPem }, listenMs: 400 });
      assert.equal(report.ok, true, JSON.stringify(report.steps));
      assert.ok((report.facts.eventNames?.value as string[]).includes('payment.changed'), JSON.stringify(report.facts));
      assert.match(report.facts.paymentEvent?.advice ?? '', /set paymentEvent.*payment\.changed/);
    } finally {
      await sim.stop();
    }
  });

  it('modulus: a wrong API secret is found by a signed look-up, and the report says to check it', async () => {
    const sim = new ModulusSimulator({ apiKeys: ['mk_key_1'], apiSecret: 'mk_right_secret' });
    const { url } = await sim.start();
    try {
      const wrong = await check('modulus', { url, secrets: { apiKey: 'mk_key_1', apiSecret: 'mk_wrong_secret' } });
      assert.match(String(wrong.facts.lookupOfLostResults?.value), /^not possible: .*HTTP 40[13]/);
      assert.match(wrong.facts.lookupOfLostResults?.advice ?? '', /check the API secret/);
      const right = await check('modulus', { url, secrets: { apiKey: 'mk_key_1', apiSecret: 'mk_right_secret' } });
      assert.equal(right.facts.lookupOfLostResults?.value, 'possible: the HTTP API accepted a signed look-up');
      assert.equal(right.facts.lookupOfLostResults?.advice, undefined);
    } finally {
      await sim.stop();
    }
  });

  it("dojo: the account's registered capability version is read, and another one than the setting is named", async () => {
    const sim = new DojoSimulator({ apiKeys: ['sk_sandbox_dojo_1'] });
    const { url } = await sim.start();
    try {
      const register = await fetch(`${url}/epos/integrations/ws`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: 'Basic sk_sandbox_dojo_1', version: '2026-02-27', 'software-house-id': 'softwareHouse1' },
        body: JSON.stringify({ capabilities: [{ name: CAPABILITY_NAMES[0], version: '1.0.0' }] }),
      });
      assert.equal(register.status, 200, await register.text());
      const input = { url, fields: { softwareHouseId: 'softwareHouse1' }, secrets: { apiKey: 'sk_sandbox_dojo_1' } };
      const report = await check('dojo', input);
      assert.equal(report.ok, true, JSON.stringify(report.steps));
      assert.deepEqual(report.facts.capabilityVersion?.value, ['1.0.0']);
      assert.match(report.facts.capabilityVersion?.advice ?? '', /set capabilityVersion to "1\.0\.0"/);
      const matching = await check('dojo', { ...input, fields: { ...input.fields, capabilityVersion: '1.0.0' } });
      assert.equal(matching.facts.capabilityVersion?.advice, undefined);
      const after = await (await fetch(`${url}/epos/integrations/ws`, { headers: { authorization: 'Basic sk_sandbox_dojo_1', version: '2026-02-27', 'software-house-id': 'softwareHouse1' } })).json() as Array<{ capabilities: unknown[] }>;
      assert.equal(after[0]?.capabilities.length, 1, "the check's EPOS connection did not replace the account's registration");
    } finally {
      await sim.stop();
    }
  });

  it('frames pass the wire tap the check is given', async () => {
    const frames: string[] = [];
    const report = await check('modulus', { environment: 'simulator', wire: (d, t) => frames.push(`${d} ${t}`) });
    assert.equal(report.ok, true);
    assert.ok(frames.some((f) => f.startsWith('out ') && f.includes('getTerminals')), frames.slice(0, 5).join('\n'));
    assert.ok(frames.some((f) => f.startsWith('in ')));
  });
});

describe('connection check: nothing left behind', function () {
  this.timeout(30000);

  for (const provider of ['paymentsense', 'dojo', 'modulus', 'quickpay', 'sensepass']) {
    it(`${provider}: within 2 s of the report, no timer or socket of the check remains`, async () => {
      // Mocha arms the test's own timeout timer just after the test starts: track after it.
      await new Promise((r) => setImmediate(r));
      const tracker = trackResources();
      try {
        const report = await check(provider, { environment: 'simulator' });
        assert.equal(report.ok, true, JSON.stringify(report.steps));
        assert.deepEqual(await tracker.leftWithin(2000), {}, 'timers and sockets the check left');
      } finally {
        tracker.stop();
      }
    });
  }

  it('a failed check (a refused token) leaves nothing either', async () => {
    const sim = new PaymentsenseSimulator({ token: 'the-right-token' });
    const { url } = await sim.start();
    try {
      await new Promise((r) => setImmediate(r));
      const tracker = trackResources();
      try {
        const report = await check('paymentsense', { url, fields: { softwareHouseId: 'S', installerId: 'I' }, secrets: { token: 'wrong-token-1' } });
        assert.equal(report.ok, false);
        assert.deepEqual(await tracker.leftWithin(2000), {}, 'timers and sockets the check left');
      } finally {
        tracker.stop();
      }
    } finally {
      await sim.stop();
    }
  });
});
