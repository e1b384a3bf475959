import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MissingModuleError, requireOptional } from '../../lib/core/optional-module';
import { SOCKET_IO_V2_INSTALL } from '../../lib/providers/sensepass/socket';

const root = path.join(__dirname, '../../..');
const notFound = (name: string) => Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- /x.js`), { code: 'MODULE_NOT_FOUND' });

describe('optional packages', () => {
  it('a missing package is a sentence naming the install command, not a stack trace', () => {
    assert.throws(() => requireOptional('pkg-x', 'npm install pkg-x', 'Feature X', () => { throw notFound('pkg-x'); }), (e: unknown) => {
      assert.ok(e instanceof MissingModuleError);
      assert.equal(e.message, 'Feature X needs the optional package "pkg-x", which is not installed: run `npm install pkg-x` ' +
        'in the Node-RED user directory (usually ~/.node-red), then restart Node-RED');
      return true;
    });
  });

  it('a package that is there but broken (one of its own files missing) is not reported as "not installed"', () => {
    assert.throws(() => requireOptional('pkg-x', 'npm install pkg-x', 'X', () => { throw notFound('./lib/inner'); }), /Cannot find module '\.\/lib\/inner'/);
    assert.throws(() => requireOptional('pkg-x', 'npm install pkg-x', 'X', () => { throw new SyntaxError('bad'); }), SyntaxError);
    assert.equal(requireOptional<number>('pkg-x', 'i', 'X', () => 42), 42);
  });

  it('the Socket.IO 2 install command installs exactly the spec the tests use (devDependencies)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.dependencies['socket.io-client-v2'], undefined, 'not a production dependency');
    assert.equal(SOCKET_IO_V2_INSTALL, `npm install socket.io-client-v2@${pkg.devDependencies['socket.io-client-v2']}`);
  });

  it('SensePass with "Socket.IO client v2" and the package missing: error state naming the command, no retry, nothing sent', function () {
    this.timeout(20000);
    const run = spawnSync(process.execPath, ['-r', path.join(__dirname, '../support/hide-modules.js'), path.join(__dirname, '../support/sensepass-without-v2.js')], {
      env: { ...process.env, POS_HIDE_MODULES: 'socket.io-client-v2' }, encoding: 'utf8', timeout: 15000,
    });
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!);
    const names = (out.states as Array<{ name: string }>).map((s) => s.name);
    assert.deepEqual(names.filter((n) => n !== 'closed'), ['connecting', 'error'], 'one attempt, then error: retrying cannot install a package');
    const reason = out.states[1].reason as string;
    assert.ok(reason.includes(SOCKET_IO_V2_INSTALL), reason);
    assert.ok(!/\n\s+at /.test(reason) && !out.lines.some((l: string) => /\n\s+at /.test(l)), 'no stack trace');
    assert.ok(out.lines.some((l: string) => l.includes(SOCKET_IO_V2_INSTALL)), 'the log names the command');
    assert.equal(out.payment.code, 'not_connected');
    assert.ok(out.payment.message.includes(SOCKET_IO_V2_INSTALL), out.payment.message);
    assert.match(out.payment.message, /nothing was sent/);
    assert.equal(out.charged, 0);
  });
});
