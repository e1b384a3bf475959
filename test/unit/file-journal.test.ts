// The file journal on its own: what is on disk after a claim resolves, group commit, torn
// records, the one-process lock, slim finished records read back from disk, retention by
// whole segment files with pending entries carried forward, and a disk that refuses writes.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PaymentRequest, PaymentResult } from '../../lib/core/types';
import { FileJournal } from '../../lib/journal/file-journal';
import { acquireJournal } from '../../lib/journal/open-journals';

const sale = (reference: string, amount = 1250): PaymentRequest => ({ kind: 'sale', amount, currency: 'GBP', reference, terminalId: 'T1' });
const result = (r: PaymentRequest): PaymentResult => ({
  outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense',
  transactionId: 'tx-1', authCode: 'A1', card: { scheme: 'VISA', last4: '0119' }, receipt: { merchant: ['M'], customer: ['C'] },
  message: 'ok', raw: { big: 'x'.repeat(5000) },
});
const segments = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('journal-')).sort();

describe('file journal', () => {
  let dir: string;
  const opened: FileJournal[] = [];
  const open = async (opts = {}) => {
    const j = await FileJournal.open(dir, opts);
    opened.push(j);
    return j;
  };
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pos-fj-')); });
  afterEach(async () => {
    for (const j of opened.splice(0)) await j.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a claim is in the file when it resolves: another process reading the folder sees it', async () => {
    const j = await open();
    const c = await j.claim(sale('R1'), 'a1');
    assert.equal(c.claimed, true);
    // A separate process (as after kill -9) reads the raw file.
    const read = spawnSync(process.execPath, ['-e', `const fs=require('fs');const d=${JSON.stringify(dir)};process.stdout.write(fs.readdirSync(d).filter(f=>f.startsWith('journal-')).map(f=>fs.readFileSync(d+'/'+f,'utf8')).join(''))`], { encoding: 'utf8' });
    assert.match(read.stdout, / p UjE /, 'the pending record of R1 (base64url "UjE")');
    const again = await j.claim(sale('R1'), 'a2');
    assert.equal(again.claimed, false);
    assert.equal(again.entry.attemptId, 'a1');
  });

  it('concurrent claims share flushes (group commit), and each is durable', async () => {
    const j = await open();
    const before = j.flushes;
    const claims = await Promise.all(Array.from({ length: 200 }, (_, i) => j.claim(sale(`G${i}`), `a${i}`)));
    assert.ok(claims.every((c) => c.claimed));
    const flushes = j.flushes - before;
    assert.ok(flushes >= 1 && flushes < 50, `${flushes} flushes for 200 concurrent claims`);
    await j.close();
    const reopened = await open();
    assert.equal(reopened.stats.pending, 200);
  });

  it('batches larger than the flush buffer kept between flushes, and the small ones after, read back intact', async () => {
    const j = await open();
    // Three claims of ~120 KB each (options are kept as given) in one flush: more than the
    // 256 KiB buffer a flush keeps, so that batch gets a buffer of its own; then small batches
    // reuse the kept one, and every line must still pass its check.
    const big = (i: number): PaymentRequest => ({ ...sale(`B${i}`), options: { note: `${i}£`.repeat(40_000) } });
    await Promise.all([0, 1, 2].map((i) => j.claim(big(i), `b${i}`)));
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => j.claim(sale(`S${round}-${i}`), `s${round}-${i}`).then((c) => j.finish(c.entry, result(sale(`S${round}-${i}`))))));
    }
    await j.close();
    const reopened = await open();
    assert.equal(reopened.stats.damaged, 0);
    assert.equal(reopened.stats.pending, 3);
    assert.equal(reopened.stats.finished, 100);
    for (const i of [0, 1, 2]) assert.deepEqual((await reopened.get(`B${i}`))?.request, big(i));
    assert.equal((await reopened.get('S4-19'))?.result?.approved, true);
  });

  it('a finished entry is kept slim on disk, read back from disk, and survives a restart', async () => {
    const j = await open();
    const c = await j.claim(sale('R2'), 'a1');
    await j.note(c.entry, { intentId: 'pi_1' });
    await j.finish(c.entry, result(sale('R2')));
    assert.deepEqual(j.size, { pending: 0, finished: 1 });
    await j.close();
    const k = await open();
    const e = await k.get('R2');
    assert.equal(e?.state, 'done');
    assert.equal(e?.result?.raw, null);
    assert.equal(e?.result?.transactionId, 'tx-1');
    assert.deepEqual(e?.result?.receipt, { merchant: ['M'], customer: ['C'] });
    assert.deepEqual(e?.notes, { intentId: 'pi_1' });
    assert.equal(e?.request.amount, 1250);
    const bytes = segments(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    assert.ok(bytes < 2000, `the raw answer is not on disk (${bytes} bytes)`);
  });

  it('a record torn by a crash is cut off; everything before it stands and appends go on cleanly', async () => {
    const j = await open();
    await j.claim(sale('R3'), 'a1');
    await j.close();
    const file = path.join(dir, segments(dir)[0]!);
    fs.appendFileSync(file, '0badc0de p UjQ {"reference":"R4","sta');
    const k = await open();
    assert.equal(k.stats.damaged, 1);
    assert.equal((await k.get('R3'))?.state, 'pending');
    assert.equal(await k.get('R4'), undefined);
    await k.claim(sale('R5'), 'a5');
    await k.close();
    const l = await open();
    assert.equal((await l.get('R5'))?.state, 'pending');
    assert.equal(l.stats.damaged, 0);
  });

  it('one writer at a time: a second open in this process or a live other process is refused; a dead one\'s lock is taken over', async () => {
    const j = await open();
    await assert.rejects(FileJournal.open(dir), /already open in this process/);
    await j.close();
    const lock = (pid: number) => fs.writeFileSync(path.join(dir, 'LOCK'), JSON.stringify({ pid, host: os.hostname(), since: new Date().toISOString() }));
    // The process that started this test runner is alive and is not us.
    lock(process.ppid);
    await assert.rejects(FileJournal.open(dir), new RegExp(`in use by another Node-RED process \\(pid ${process.ppid}`));
    // A lock left by a process that no longer runs (kill -9).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    lock(Number(dead.stdout));
    const k = await open();
    assert.equal((await k.claim(sale('R6'), 'a6')).claimed, true);
  });

  it('retention deletes whole old segments, never a pending entry (carried forward)', async () => {
    const j = await open({ segmentMs: 200 });
    const done = await j.claim(sale('OLD'), 'a1');
    await j.finish(done.entry, result(sale('OLD')));
    await j.claim(sale('STUCK'), 'a2');
    await new Promise((r) => setTimeout(r, 450));
    const fresh = await j.claim(sale('NEW'), 'a3');
    await j.finish(fresh.entry, result(sale('NEW')));
    const dropped = await j.sweep(new Date(Date.now() - 100));
    assert.equal(dropped, 1);
    assert.equal(await j.get('OLD'), undefined);
    assert.equal((await j.get('STUCK'))?.state, 'pending');
    assert.equal((await j.get('NEW'))?.state, 'done');
    await j.close();
    const k = await open({ segmentMs: 200 });
    assert.equal(await k.get('OLD'), undefined);
    assert.equal((await k.get('STUCK'))?.state, 'pending', 'the pending entry was written forward before its file went');
    assert.equal((await k.get('NEW'))?.state, 'done');
  });

  it('a released reference is free again, also after a restart', async () => {
    const j = await open();
    const c = await j.claim(sale('R7'), 'a1');
    await j.release(c.entry);
    await j.close();
    const k = await open();
    assert.equal(await k.get('R7'), undefined);
    assert.equal((await k.claim(sale('R7'), 'a2')).claimed, true);
  });

  it('recoverable() gives each entry left from before once, and not the ones this process runs', async () => {
    const j = await open();
    await j.claim(sale('OLD1'), 'a1');
    await j.close();
    const k = await open();
    await k.claim(sale('MINE'), 'a2');
    assert.deepEqual((await k.recoverable()).map((e) => e.reference), ['OLD1']);
    assert.deepEqual(await k.recoverable(), [], 'already taken');
    k.handBack((await k.get('OLD1'))!);
    assert.deepEqual((await k.recoverable()).map((e) => e.reference), ['OLD1']);
  });

  it('a folder it cannot write: opening fails with a sentence; a claim through the shared handle is journal_unavailable', async function () {
    if (process.getuid?.() === 0) {
      // root ignores permissions: make the folder a file instead, which nobody can write into.
      fs.rmSync(dir, { recursive: true, force: true });
      fs.writeFileSync(dir, 'not a folder');
    } else {
      fs.chmodSync(dir, 0o500);
    }
    const sub = path.join(dir, 'acct');
    await assert.rejects(FileJournal.open(sub));
    const lease = acquireJournal(sub, () => FileJournal.open(sub));
    await assert.rejects(lease.journal.claim(sale('R8'), 'a'), (e: unknown) => (e as { code?: string }).code === 'journal_unavailable' && /nothing was sent/.test(String((e as Error).message)));
    await lease.release();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
  });

  it('a write that fails: the claim is refused and taken back; a finish is kept in memory and written when the disk is back', async () => {
    const j = await open({ retryMs: 50 });
    const ok = await j.claim(sale('R9'), 'a1');
    // Make the next writes fail as a full disk would: swap the segment for a folder.
    const writer = (j as unknown as { writer: { file: { write: unknown } } }).writer;
    const realWrite = writer.file.write;
    let failing = true;
    writer.file.write = function (this: unknown, ...args: unknown[]) {
      if (failing) return Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      return (realWrite as (...a: unknown[]) => unknown).apply(this, args);
    };
    await assert.rejects(j.claim(sale('R10'), 'a2'), (e: unknown) => (e as { code?: string }).code === 'journal_unavailable' && /ENOSPC/.test(String((e as Error).message)));
    assert.equal(await j.get('R10'), undefined, 'a refused claim leaves nothing behind');
    await assert.rejects(j.finish(ok.entry, result(sale('R9'))), /ENOSPC/);
    assert.equal((await j.get('R9'))?.state, 'done', 'answered from memory meanwhile');
    failing = false;
    const end = Date.now() + 3000;
    while (j.size.finished === 1 && (j as unknown as { unsaved: Set<string> }).unsaved.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await j.close();
    const k = await open();
    assert.equal((await k.get('R9'))?.state, 'done', 'written once the disk was back');
  });
});
