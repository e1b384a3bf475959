// Runs the README's `npm start` (scripts/start.js) as a child process on free loopback ports
// with its own user directory, for the tests that check the pack as a person meets it.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

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

/** The environment less the test run's own journal folder (pack-dir.ts): a real Node-RED uses its user directory. */
export function withoutPackDir(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { POS_PAYMENTS_DIR: _omit, ...rest } = env;
  return rest;
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
      env: { ...withoutPackDir(process.env), POS_USER_DIR: this.userDir, POS_PORT: String(this.port), POS_SIMULATOR_PORT: String(simPort) },
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

/** One message of the Debug sidebar as Node-RED sends it over /comms, with when it arrived. */
export interface DebugMessage {
  /** The debug node that sent it. */
  id: string;
  name?: string;
  topic?: string;
  /** The logged value as the sidebar receives it (JSON text for objects). */
  msg: string;
  format?: string;
  receivedAt: number;
}

/**
 * Listens on /comms the way the editor's Debug sidebar does and keeps every debug message, so a
 * test can wait for one that arrived before it started looking (the simulators act on their own).
 */
export class DebugTap {
  readonly messages: DebugMessage[] = [];
  /** The last status each node showed (text, fill), as the editor draws it under the node. */
  readonly statuses = new Map<string, { text?: string; fill?: string }>();
  /** Pending waitFor calls: each checks the messages again, or gives up when the tap closes. */
  private readonly waiters = new Map<() => void, (why: string) => void>();

  private constructor(private readonly ws: WebSocket) {
    // A socket error ends in 'close'; the waits then time out and say what they saw.
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      let parsed: unknown;
      try { parsed = JSON.parse(String(data)); } catch { return; }
      for (const m of ([] as unknown[]).concat(parsed)) {
        const { topic, data: d } = (m ?? {}) as { topic?: string; data?: Omit<DebugMessage, 'receivedAt'> };
        if (typeof topic === 'string' && topic.startsWith('status/')) {
          this.statuses.set(topic.slice('status/'.length), (d ?? {}) as { text?: string; fill?: string });
          continue;
        }
        if (topic !== 'debug' || !d || typeof d.msg !== 'string') continue;
        this.messages.push({ ...d, receivedAt: Date.now() });
      }
      for (const check of [...this.waiters.keys()]) check();
    });
  }

  /** Connects and subscribes to debug messages; bounded by `limitMs`. */
  static async open(port: number, limitMs = 10000): Promise<DebugTap> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/comms`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { ws.terminate(); reject(new Error('/comms did not open')); }, limitMs);
      ws.once('open', () => { clearTimeout(timer); resolve(); });
      ws.once('error', (err) => { clearTimeout(timer); reject(err); });
    });
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
    return new DebugTap(ws);
  }

  /** The first message (kept or still to come) that `match` accepts, within `limitMs`. */
  waitFor(what: string, limitMs: number, match: (m: DebugMessage) => boolean): Promise<DebugMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (!found) return;
        done();
        resolve(found);
      };
      const fail = (why: string) => {
        done();
        const seen = this.messages.map((m) => `${m.name || m.id}: ${m.msg.slice(0, 200)}`).join('\n');
        reject(new Error(`${why} waiting for ${what}; debug messages so far:\n${seen}`));
      };
      const timer = setTimeout(() => fail(`timed out after ${limitMs} ms`), Math.max(0, limitMs));
      const done = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.set(check, fail);
      check();
    });
  }

  /** Closes the socket; resolves once it is closed (or after 2 s, then terminated). */
  async close(): Promise<void> {
    for (const fail of [...this.waiters.values()]) fail('the tap was closed');
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    this.ws.close();
    await closed;
    clearTimeout(timer);
  }
}
