// A throwaway PostgreSQL server for tests: its own cluster in a temporary folder, trust auth,
// listening on 127.0.0.1 only, on a free port. It can be taken down and brought back on the
// same port and data (an outage mid-run) and is always stopped and deleted at the end, even
// when the test process exits without calling stop().

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { needsTool, type Tool } from './needs-tool';

const exec = promisify(execFile);
const READY_MS = 30_000;

interface Binaries {
  dir: string;
  initdb: string;
  pgCtl: string;
  pgIsready: string;
}

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:<port>/postgres (trust: any password is accepted). */
  url: string;
  port: number;
  /** Stops for good and deletes the cluster. */
  stop(): Promise<void>;
  /** Takes the server down cleanly; the port and data stay for resume(). */
  pause(): Promise<void>;
  /** Brings a paused or killed server back on the same port and data. */
  resume(): Promise<void>;
  /** pause() then resume(). */
  restart(): Promise<void>;
  /** Immediate shutdown, as a crash: no checkpoint; resume() recovers. */
  kill(): Promise<void>;
  /** SIGSTOP to the server and its backends: connections open but nothing answers, as a hung host. */
  freeze(): void;
  /** SIGCONT after freeze() (resume() and stop() do it too). */
  thaw(): void;
}

const executable = (file: string) => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function findBinaries(): Binaries | undefined {
  const dirs: string[] = [];
  try {
    const versions = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // Not a Debian layout: PATH below.
  }
  dirs.push(...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean));
  for (const dir of dirs) {
    const bins = { dir, initdb: path.join(dir, 'initdb'), pgCtl: path.join(dir, 'pg_ctl'), pgIsready: path.join(dir, 'pg_isready') };
    if (executable(bins.initdb) && executable(bins.pgCtl) && executable(bins.pgIsready)) return bins;
  }
  return undefined;
}

const asRoot = () => process.getuid?.() === 0;

/** PostgreSQL refuses to run as root; as root the server runs as the `postgres` user. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find(executable);

export function postgresTool(): Tool {
  const install = 'apt-get install postgresql';
  let missing: string | undefined;
  if (!findBinaries()) missing = 'initdb, pg_ctl and pg_isready in /usr/lib/postgresql/*/bin or on PATH';
  else if (asRoot() && !postgresUser()) missing = 'a "postgres" user to run the server as (it refuses to run as root)';
  return { name: 'PostgreSQL', missing, install };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function runPg(file: string, args: string[], timeoutMs: number): Promise<string> {
  let cmd = file;
  let argv = args;
  if (asRoot()) {
    if (RUNUSER) [cmd, argv] = [RUNUSER, ['-u', 'postgres', '--', file, ...args]];
    else [cmd, argv] = ['su', ['postgres', '-s', '/bin/sh', '-c', [file, ...args].map(shellQuote).join(' ')]];
  }
  try {
    const { stdout } = await exec(cmd, argv, { timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C' } });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(file)} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The postmaster's pid, from its lock file, while it runs. */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The server's processes: the postmaster and its children (backends, checkpointer, ...). */
function serverPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name is in parentheses and may contain spaces: the fields after it are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(name));
    } catch {
      // Ended while listed.
    }
  }
  return pids;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) try { process.kill(pid, signal); } catch { /* gone already */ }
}

export async function startPostgres(): Promise<PostgresServer> {
  const bins = findBinaries();
  if (!bins) throw new Error('PostgreSQL not found; call needsTool(this, postgresTool()) first');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-pg-'));
  const data = path.join(root, 'data');
  const sockets = path.join(root, 'sockets');
  const log = path.join(root, 'server.log');
  fs.mkdirSync(sockets);
  if (asRoot()) {
    const user = postgresUser();
    if (!user) throw new Error('no "postgres" user to run PostgreSQL as');
    for (const p of [root, sockets]) fs.chownSync(p, user.uid, user.gid);
  }
  // A crash of the test process must not leave a server behind: SIGQUIT is PostgreSQL's immediate shutdown.
  let frozen: number[] = [];
  const thaw = () => {
    signalAll(frozen, 'SIGCONT');
    frozen = [];
  };
  const onExit = () => {
    thaw();
    const pid = postmasterPid(data);
    if (pid) try { process.kill(pid, 'SIGQUIT'); } catch { /* gone already */ }
    try { fs.rmSync(root, { recursive: true, force: true }); } catch { /* best effort at exit */ }
  };
  process.on('exit', onExit);

  let running = false;
  const port = await freePort();
  const ready = async () => {
    const until = Date.now() + READY_MS;
    for (;;) {
      try {
        await runPg(bins.pgIsready, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-t', '2'], 5000);
        return;
      } catch (err) {
        if (Date.now() > until) throw new Error(`PostgreSQL did not accept connections within ${READY_MS / 1000} s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const up = async () => {
    await runPg(bins.pgCtl, ['start', '-D', data, '-l', log, '-w', '-t', String(READY_MS / 1000)], READY_MS + 5000);
    running = true;
    await ready();
  };
  const down = async (mode: 'fast' | 'immediate') => {
    thaw();
    if (!running) return;
    await runPg(bins.pgCtl, ['stop', '-D', data, '-m', mode, '-w', '-t', '20'], 25_000);
    running = false;
  };

  try {
    await runPg(bins.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'], 60_000);
    fs.appendFileSync(path.join(data, 'postgresql.conf'), [
      '',
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${sockets}'`,
      'max_connections = 200',
      '',
    ].join('\n'));
    await up();
  } catch (err) {
    await down('immediate').catch(() => {});
    onExit();
    process.off('exit', onExit);
    throw err;
  }

  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    pause: () => down('fast'),
    resume: async () => {
      thaw();
      if (!running) await up();
    },
    freeze: () => {
      const pid = postmasterPid(data);
      if (!running || !pid || frozen.length > 0) return;
      frozen = serverPids(pid);
      signalAll(frozen, 'SIGSTOP');
    },
    thaw,
    restart: async () => {
      await down('fast');
      await up();
    },
    kill: () => down('immediate'),
    stop: async () => {
      try {
        await down('fast');
      } catch {
        await down('immediate').catch(() => {});
      }
      // Whatever pg_ctl could not stop is not left running.
      const pid = postmasterPid(data);
      if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
      fs.rmSync(root, { recursive: true, force: true });
      process.off('exit', onExit);
    },
  };
}

/**
 * The mocha hooks of tests on a real PostgreSQL: one throwaway server for the describe block
 * (needsTool decides what a missing postgresql means), stopped after it. `use` receives the
 * server; `beforeStop` runs first, to close what the tests opened.
 */
export function usePostgres(use: (server: PostgresServer) => void, beforeStop?: () => Promise<void>): void {
  let server: PostgresServer | undefined;
  before(async function () {
    needsTool(this, postgresTool());
    this.timeout(120000);
    server = await startPostgres();
    use(server);
  });
  after(async function () {
    this.timeout(60000);
    await beforeStop?.();
    await server?.stop();
  });
}
