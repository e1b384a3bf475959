// Child processes for the bench: every measurement runs in a fresh Node process (so one
// measurement's heap and JIT state never colour the next), and servers run in their own
// process (on a 2-core box, client and server then each get a core). Every wait has a limit
// and every child is killed by its pid when the limit passes.

import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A child's stdout goes to our stderr: the bench's own stdout carries only the report. */
const CHILD_STDIO: ['ignore', number, 'inherit', 'ipc'] = ['ignore', 2, 'inherit', 'ipc'];

/** Every child started by this process, so an exit or a signal can end them. */
const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  }
  children.clear();
}

let hooked = false;
/** Kill our children when this process is interrupted or exits. */
export function killChildrenOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function log(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

interface ChildMessage<T> {
  type: 'result' | 'error' | 'ready';
  data?: T;
  message?: string;
}

/**
 * Runs `script` (a compiled bench file) in a fresh Node process and resolves with the value its
 * childMain() sends back. Rejects (and kills the child) after timeoutMs.
 */
export function runChild<T>(script: string, opts: { execArgv?: string[]; timeoutMs: number; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = track(fork(script, opts.args ?? [], {
      execArgv: opts.execArgv ?? [],
      stdio: CHILD_STDIO,
      env: { ...process.env, ...(opts.env ?? {}) },
    }));
    let settled = false;
    const finish = (err: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(err);
      } else resolve(value as T);
    };
    const timer = setTimeout(() => finish(new Error(`${path.basename(script)} did not finish within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    child.on('message', (msg: ChildMessage<T>) => {
      if (msg?.type === 'result') finish(undefined, msg.data);
      else if (msg?.type === 'error') finish(new Error(`${path.basename(script)}: ${msg.message}`));
    });
    child.once('error', (err) => finish(err));
    child.once('exit', (code, signal) => finish(new Error(`${path.basename(script)} exited (${signal ?? code}) without a result`)));
  });
}

/** The child side of runChild(): run `main`, send its value to the parent, exit. */
export function childMain<T>(main: () => Promise<T>): void {
  const send = (msg: ChildMessage<T>) => new Promise<void>((resolve) => {
    if (!process.send) {
      // Run by hand: print instead.
      console.log(JSON.stringify(msg, null, 2));
      resolve();
      return;
    }
    process.send(msg, () => resolve());
  });
  // The parent going away (killed, interrupted) takes this process with it.
  process.on('disconnect', () => process.exit(1));
  main().then(
    (data) => send({ type: 'result', data }),
    (err: Error) => send({ type: 'error', message: err?.stack ?? String(err) }),
  ).finally(() => {
    killAll();
    process.exit(0);
  });
}

export interface ServerChild {
  url: string;
  pid: number;
  /** Ask the server something (with an optional argument); it answers with a plain object. */
  ask<T = Record<string, unknown>>(what: string, timeoutMs?: number, arg?: unknown): Promise<T>;
  stop(): Promise<void>;
}

const SERVERS_JS = path.join(__dirname, 'servers.js');

/** Starts bench/servers.ts in its own process in the given mode and waits for its URL. */
export function startServer(mode: 'rpc' | 'simulator' | 'dojo', options: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<ServerChild> {
  return new Promise<ServerChild>((resolve, reject) => {
    const child = track(fork(SERVERS_JS, [mode, JSON.stringify(options)], { stdio: CHILD_STDIO, execArgv: [] }));
    let askId = 0;
    const waiting = new Map<number, (v: unknown) => void>();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${mode} server did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', (msg: { type: string; url?: string; id?: number; data?: unknown; message?: string }) => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve({
          url: msg.url!,
          pid: child.pid!,
          ask: <T>(what: string, limit = 5_000, arg?: unknown) => new Promise<T>((res, rej) => {
            const id = ++askId;
            const t = setTimeout(() => { waiting.delete(id); rej(new Error(`server did not answer "${what}"`)); }, limit);
            waiting.set(id, (v) => { clearTimeout(t); res(v as T); });
            child.send({ type: 'ask', id, what, arg });
          }),
          stop: () => stopChild(child),
        });
      } else if (msg.type === 'answer' && msg.id !== undefined) {
        waiting.get(msg.id)?.(msg.data);
        waiting.delete(msg.id);
      } else if (msg.type === 'error') {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`the ${mode} server failed: ${msg.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${mode} server exited (${code}) before it was ready`));
    });
  });
}

/** Asks a child to stop, then kills it after a grace period. */
export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (child.connected) child.send({ type: 'stop' });
      else child.kill('SIGTERM');
    } catch {
      child.kill('SIGKILL');
    }
  });
}

/** A free TCP port on 127.0.0.1 (free at the moment of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh directory under os.tmpdir(); remove it with removeDir(). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `pos-bench-${prefix}-`));
}

export function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  } catch {
    /* best effort */
  }
}

/** The repository root (dist/bench/x.js -> ../../). */
export const ROOT = path.resolve(__dirname, '..', '..');

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true or `limitMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, limitMs: number, everyMs = 20): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
