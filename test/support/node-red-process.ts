// A real Node-RED process with this pack installed (linked into its user directory, as
// `npm install <path>` does) and Node-RED's default settings apart from the address it
// listens on: no context store, no journal settings. For the tests about crashes, stops and
// restarts, which the in-process test helper cannot show.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, waitFor, withoutPackDir } from './quick-start';

const RED_JS = require.resolve('node-red/red.js', { paths: [repoRoot] });

export class NodeRedProcess {
  readonly userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-red-'));
  port = 0;
  private child: ChildProcess | undefined;
  private log = '';
  /** Every line Node-RED printed, over all its starts. */
  allOutput = '';

  constructor(flows: object[], private readonly extraSettings = '') {
    fs.mkdirSync(path.join(this.userDir, 'node_modules'));
    fs.symlinkSync(repoRoot, path.join(this.userDir, 'node_modules', 'node-red-contrib-pos-payments'), 'junction');
    fs.writeFileSync(path.join(this.userDir, 'package.json'), JSON.stringify({ name: 'pos-test', private: true }));
    fs.writeFileSync(path.join(this.userDir, 'flows.json'), JSON.stringify(flows));
  }

  get output(): string {
    return this.log;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(limitMs = 60000): Promise<void> {
    this.port ||= await freePort();
    const settings = path.join(this.userDir, 'settings.js');
    fs.writeFileSync(settings, `module.exports = { uiHost: '127.0.0.1', uiPort: ${this.port}, flowFile: 'flows.json',
      credentialSecret: 'pos-test-secret', logging: { console: { level: 'info' } },
      telemetry: { enabled: false, updateNotification: false }, editorTheme: { tours: false } ${this.extraSettings} };\n`);
    this.log = '';
    const child = spawn(process.execPath, [RED_JS, '--userDir', this.userDir, '--settings', settings], {
      cwd: this.userDir, env: withoutPackDir(process.env), stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (d: Buffer) => { this.log += d; this.allOutput += d; };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const started = await waitFor('Node-RED to start its flows', limitMs, async () => {
      if (/Started flows/.test(this.log)) return 'started';
      return child.exitCode !== null ? `exited with code ${child.exitCode}` : undefined;
    });
    if (started !== 'started') throw new Error(`Node-RED ${started}\n${this.log}`);
  }

  /** kill -9: no close handlers, no flush, as a power cut or the OOM killer would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** A graceful stop (SIGTERM), as systemd or docker stop sends; SIGKILL after 20 s. */
  async terminate(): Promise<void> {
    await this.signal('SIGTERM');
  }

  api(p: string, init?: RequestInit): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${p}`, init);
  }

  async dispose(): Promise<void> {
    await this.kill();
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    const timer = setTimeout(() => c.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  }
}
