// The packed tarball, installed the way a user installs it, into a given Node-RED on a given
// Node.js: `npm install node-red@<version> <tarball>` in an empty user directory (npm run by
// that Node.js), then Node-RED started from there. Passes when npm printed no warning about the
// pack, every node set of the pack loaded without error (GET /nodes), and example 01, read from
// the installed package and deployed, takes an approved payment on the built-in simulator.
// Run by .ci/run after `npm test` (it is not a mocha test: it installs Node-RED, about 30 s):
//
//   node dist/test/smoke/installed-package.js --node-red <version|min> [--node <path>] [--tarball <file>]
//
// --node-red min takes the lowest version package.json's "node-red".version allows.
// Exit 0 and a closing "1 passed, 0 failed" line when it all held; otherwise exit 1 and why.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DebugTap, freePort, repoRoot, waitFor } from '../support/quick-start';

interface FlowNode { id: string; type: string; name?: string; wires?: string[][]; [k: string]: unknown }
interface NodeSet { id: string; module: string; types: string[]; enabled: boolean; err?: string }

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string; version: string; 'node-red': { version: string; nodes: Record<string, string> };
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** The lowest version a ">=x.y.z" range allows; the only form this package declares. */
function minimumNodeRed(): string {
  const m = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg['node-red'].version.trim());
  if (!m) throw new Error(`cannot take the minimum of "node-red".version ${pkg['node-red'].version}: expected >=x.y.z`);
  return m[1]!;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): string {
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8', timeout: 600000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${out}`);
  return out;
}

async function main(): Promise<void> {
  const wanted = arg('node-red') ?? 'min';
  const version = wanted === 'min' ? minimumNodeRed() : wanted;
  const nodeBin = path.resolve(arg('node') ?? process.execPath);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-smoke-'));
  // npm and Node-RED both run on the Node.js under test: npm's engine checks see that one.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(nodeBin)}${path.delimiter}${process.env.PATH ?? ''}` };
  delete env.npm_config_prefix;
  let red: ChildProcess | undefined;
  let tap: DebugTap | undefined;
  let log = '';
  try {
    const nodeVersion = run(nodeBin, ['--version'], { cwd: work, env }).trim();
    let tarball = arg('tarball');
    if (!tarball) {
      run('npm', ['pack', '--pack-destination', work], { cwd: repoRoot, env });
      tarball = path.join(work, fs.readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    }
    tarball = path.resolve(tarball);
    console.log(`smoke: Node-RED ${version} on Node.js ${nodeVersion}, ${path.basename(tarball)}`);

    const userDir = path.join(work, 'user');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    const npmOut = run('npm', ['install', '--no-audit', '--no-fund', `node-red@${version}`, tarball], { cwd: userDir, env });
    const warnings = npmOut.split('\n').filter((l) => /^npm (warn|WARN)/.test(l));
    for (const w of warnings) console.log(`  ${w}`);
    const ours = warnings.filter((w) => w.includes(pkg.name) || /install.?scripts?/i.test(w) && !/core-js|node@/.test(w));
    if (ours.length) throw new Error(`npm warned about the pack:\n${ours.join('\n')}`);
    console.log(`  installed (${warnings.length} npm warning(s), none about the pack)`);

    const port = await freePort();
    const settings = path.join(userDir, 'settings.js');
    fs.writeFileSync(settings, `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json',
      logging: { console: { level: 'info' } }, telemetry: { enabled: false, updateNotification: false },
      editorTheme: { projects: { enabled: false }, tours: false } };\n`);
    const redJs = path.join(userDir, 'node_modules', 'node-red', 'red.js');
    const child = spawn(nodeBin, [redJs, '--userDir', userDir, '--settings', settings], { cwd: userDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    red = child;
    child.stdout!.on('data', (d) => { log += d; });
    child.stderr!.on('data', (d) => { log += d; });
    await waitFor('Node-RED to start', 90000, async () => {
      if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode}:\n${log}`);
      return /Started flows/.test(log) ? true : undefined;
    }).catch((err) => { throw new Error(`${(err as Error).message}\n${log}`); });
    const api = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${p}`, init);
    const reported = (await api('/settings').then((r) => r.json())) as { version?: string };
    const installed = (JSON.parse(fs.readFileSync(path.join(userDir, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string }).version;
    const asked = /^\d+\.\d+\.\d+$/.test(version) ? installed === version : installed.startsWith(`${version}.`);
    if (reported.version !== installed || !asked) throw new Error(`Node-RED reports version ${reported.version}, installed ${installed}, asked for ${version}`);
    console.log(`  Node-RED ${installed} running`);

    // Every node set of the pack loaded, with all the types package.json declares.
    const sets = ((await (await api('/nodes', { headers: { Accept: 'application/json' } })).json()) as NodeSet[]).filter((s) => s.module === pkg.name);
    const broken = sets.filter((s) => !s.enabled || s.err);
    if (broken.length) throw new Error(`node sets that did not load:\n${broken.map((s) => `${s.id}: ${s.err ?? 'disabled'}`).join('\n')}\n${log}`);
    const types = new Set(sets.flatMap((s) => s.types));
    const missing = Object.keys(pkg['node-red'].nodes).filter((t) => !types.has(t));
    if (missing.length || sets.length !== Object.keys(pkg['node-red'].nodes).length) {
      throw new Error(`GET /nodes lists ${sets.length} node sets; types missing: ${missing.join(', ') || 'none'}`);
    }
    console.log(`  GET /nodes: ${sets.length} node sets of ${pkg.name}@${pkg.version} loaded, no error`);

    // Example 01 as the user gets it: from the installed package.
    const exampleDir = path.join(userDir, 'node_modules', pkg.name, 'examples');
    const file = fs.readdirSync(exampleDir).find((f) => f.startsWith('01 '));
    if (!file) throw new Error(`no example 01 in ${exampleDir}`);
    const flow = JSON.parse(fs.readFileSync(path.join(exampleDir, file), 'utf8')) as FlowNode[];
    tap = await DebugTap.open(port);
    const deployed = await api('/flows', {
      method: 'POST', body: JSON.stringify(flow),
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    });
    if (deployed.status !== 204 && deployed.status !== 200) throw new Error(`deploying ${file}: HTTP ${deployed.status} ${await deployed.text()}`);
    const pay = flow.find((n) => n.type === 'pos-pay');
    const inject = flow.find((n) => n.type === 'inject' && /^approved/.test(n.name ?? '') && (n.wires ?? []).flat().includes(pay?.id ?? ''));
    const result = flow.find((n) => n.type === 'debug' && (pay?.wires?.[0] ?? []).includes(n.id));
    if (!pay || !inject || !result) throw new Error(`${file}: no approved-payment inject wired to a pay node with a result debug node`);
    // A person clicks once the status under the pay node says connected.
    await waitFor('the pay node to show "connected"', 30000, async () => (/^connected/.test(tap!.statuses.get(pay.id)?.text ?? '') ? true : undefined))
      .catch((err) => { throw new Error(`${(err as Error).message}; its status: ${JSON.stringify(tap!.statuses.get(pay.id))}`); });
    // The deploy answers before the new flows have started; the inject button works once they have.
    const clicked = await waitFor(`the inject "${inject.name}" to take a click`, 30000, async () =>
      (await api(`/inject/${inject.id}`, { method: 'POST' })).status === 200 ? Date.now() : undefined);
    const seen = await tap.waitFor('an approved result from example 01', 60000, (m) => m.id === result.id);
    // The example's debug node shows the whole msg (complete: true) or only msg.payload.
    type Result = { outcome?: string; amount?: number; currency?: string };
    const shown = JSON.parse(seen.msg) as Result & { payload?: Result };
    const payload = result.complete === 'true' ? shown.payload ?? {} : shown;
    if (payload.outcome !== 'approved') throw new Error(`example 01 answered ${seen.msg.slice(0, 300)}`);
    console.log(`  example 01: "${inject.name}" -> ${payload.outcome} ${payload.amount} ${payload.currency} in ${Date.now() - clicked} ms`);

    const bad = log.split('\n').filter((l) => /\[(error|warn)\]/.test(l) && /pos-|payments/i.test(l));
    if (bad.length) throw new Error(`Node-RED logged warnings or errors about the pack:\n${bad.join('\n')}`);
    console.log('smoke: 1 passed, 0 failed');
  } finally {
    await tap?.close().catch(() => undefined);
    if (red && red.exitCode === null) {
      const exited = new Promise((r) => red!.once('exit', r));
      red.kill('SIGINT');
      const timer = setTimeout(() => red!.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

main().catch((err) => {
  console.error(`smoke: ${(err as Error).message}`);
  console.log('smoke: 0 passed, 1 failed');
  process.exitCode = 1;
});
