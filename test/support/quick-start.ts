// Runs the README's `npm start` (scripts/start.js) as a child process on free loopback ports
// with its own user directory, for the tests that check the pack as a person meets it.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../../..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Polls `probe` every 200 ms until it yields a value; bounded by `limitMs`. */
export async function waitFor<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export class QuickStart {
  readonly userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-start-'));
  port = 0;
  private child: ChildProcess | undefined;
  private log = '';

  /** Everything Node-RED and the start script printed since the last start. */
  get output(): string {
    return this.log;
  }

  /** Starts (or restarts, keeping the user directory) and waits for "Started flows". */
  async start(limitMs = 60000): Promise<void> {
    this.port ||= await freePort();
    const simPort = await freePort();
    this.log = '';
    const child = spawn(process.execPath, [path.join(repoRoot, 'scripts', 'start.js')], {
      cwd: repoRoot,
      env: { ...process.env, POS_USER_DIR: this.userDir, POS_PORT: String(this.port), POS_SIMULATOR_PORT: String(simPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d) => { this.log += d; });
    child.stderr!.on('data', (d) => { this.log += d; });
    const started = await waitFor('Node-RED to start flows', limitMs, async () => {
      if (/Started flows/.test(this.log)) return 'started';
      return child.exitCode !== null ? `exited with code ${child.exitCode}` : undefined;
    });
    if (started !== 'started') throw new Error(`npm start (scripts/start.js) ${started}\n${this.log}`);
  }

  /** SIGINT, then SIGKILL after 10 s; resolves when the process has gone. */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }

  api(p: string, init?: RequestInit): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${p}`, init);
  }
}
