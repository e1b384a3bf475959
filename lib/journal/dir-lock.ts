// One process at a time may write a file journal: two writers appending to the same files would
// interleave records and each would think it holds every reference. The lock file names its
// process; a lock left by a process that no longer runs (kill -9, power cut) is taken over.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders this process holds: a lock file naming our own pid is ours only if listed here. */
const heldHere = new Set<string>();

/** Takes `<dir>/LOCK`; rejects with a sentence when another live process holds it. */
export async function takeDirLock(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, 'LOCK');
  if (heldHere.has(file)) throw new Error(`${dir} is already open in this process; share the open journal instead of opening it twice`);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(mine), { flag: 'wx' });
      heldHere.add(file);
      return async () => {
        heldHere.delete(file);
        // Only our own lock is removed: a process that took over a stale one keeps it.
        const now = await fs.readFile(file, 'utf8').catch(() => '');
        if (now === JSON.stringify(mine)) await fs.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held: Partial<LockInfo> = {};
    try {
      held = JSON.parse(await fs.readFile(file, 'utf8')) as LockInfo;
    } catch {
      // Empty or torn (the holder died while writing it): stale.
    }
    // Our own pid can only be a leftover of an earlier process that had it (a container restart).
    const stale = held.pid === undefined || held.pid === process.pid || (held.host === mine.host && !alive(held.pid));
    if (!stale) {
      throw new Error(`${dir} is in use by another Node-RED process (pid ${held.pid} on ${held.host}, since ${held.since}); ` +
        'two processes must not share one file journal: give each its own user directory, or share a PostgreSQL journal');
    }
    await fs.rm(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}`);
}
