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
import { PREALLOCATE_BYTES } from '../../lib/journal/segment-writer';

const sale = (reference: string, amount = 1250): PaymentRequest => ({ kind: 'sale', amount, currency: 'GBP', reference, terminalId: 'T1' });
const result = (r: PaymentRequest): PaymentResult => ({
  outcome: 'approved', approved: true, amount: r.amount, currency: r.currency, reference: r.reference, provider: 'paymentsense',
  transactionId: 'tx-1', authCode: 'A1', card: { scheme: 'VISA', last4: '0119' }, receipt: { merchant: ['M'], customer: ['C'] },
  message: 'ok', raw: { big: 'x'.repeat(5000) },
});
const segments = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('journal-')).sort();
/** Length of the line that starts at `at` in `file`, its newline included. */
const recordBytes = (file: string, at: number) => fs.readFileSync(file).indexOf(10, at) + 1 - at;

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

  it('records go into zero-filled space kept ahead of them; a closed segment holds only its records', async () => {
    const j = await open();
    await j.claim(sale('Z1'), 'a1');
    const file = path.join(dir, segments(dir)[0]!);
    // The space is filled after the first flush, off the payment's path.
    const end = Date.now() + 5000;
    while (fs.statSync(file).size < PREALLOCATE_BYTES && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const open1 = fs.readFileSync(file);
    assert.ok(open1.length >= PREALLOCATE_BYTES, `${open1.length} bytes while open`);
    const records = open1.indexOf(0);
    assert.ok(records > 0 && open1.subarray(records).every((b) => b === 0), 'records, then only zeros');
    await j.claim(sale('Z2'), 'a2');
    assert.equal(fs.readFileSync(file).indexOf(0), records + recordBytes(file, records), 'Z2 right after Z1, in the zeros');
    await j.close();
    const closed = fs.readFileSync(file);
    assert.equal(closed.indexOf(0), -1, 'no zeros left once closed');
    assert.deepEqual(closed.toString('latin1').split('\n').filter(Boolean).map((l) => l.split(' ')[2]), ['WjE', 'WjI']);
  });

  it('a segment left with its zero-filled space (a crash) reopens whole, undamaged and quietly; new records follow the last one', async () => {
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m) };
    const j = await open({ segmentMs: 300 });
    await j.claim(sale('C1'), 'a1');
    await new Promise((r) => setTimeout(r, 650));
    const c2 = await j.claim(sale('C2'), 'a2');
    await j.finish(c2.entry, result(sale('C2')));
    await j.close();
    // As kill -9 leaves them: the older segment and the newest both still carry their zeros.
    const [older, newest] = segments(dir).map((f) => path.join(dir, f));
    const sizes = [fs.statSync(older!).size, fs.statSync(newest!).size];
    for (const f of [older!, newest!]) fs.appendFileSync(f, Buffer.alloc(300_000));
    const k = await open({ segmentMs: 300, logger });
    assert.equal(k.stats.damaged, 0);
    assert.deepEqual(warnings, []);
    assert.equal((await k.get('C1'))?.state, 'pending');
    assert.equal((await k.get('C2'))?.state, 'done');
    assert.equal(fs.statSync(older!).size, sizes[0], 'an older segment is cut back to its records when opened');
    const c3 = await k.claim(sale('C3'), 'a3');
    await k.finish(c3.entry, result(sale('C3')));
    await k.close();
    const text = fs.readFileSync(newest!);
    assert.equal(text.indexOf(0), -1, 'the new records took the place of the zeros');
    assert.equal(text.length > sizes[1]!, true);
    const l = await open({ segmentMs: 300, logger });
    assert.equal(l.stats.damaged, 0);
    assert.deepEqual([(await l.get('C1'))?.state, (await l.get('C2'))?.state, (await l.get('C3'))?.state], ['pending', 'done', 'done']);
    assert.deepEqual(warnings, []);
  });

  it('a record torn just before the zero-filled space is dropped, and the records after it go where it was', async () => {
    const j = await open();
    await j.claim(sale('T1'), 'a1');
    await j.close();
    const file = path.join(dir, segments(dir)[0]!);
    fs.appendFileSync(file, Buffer.concat([Buffer.from('0badc0de p VDI {"reference":"T2","sta'), Buffer.alloc(100_000)]));
    const k = await open();
    assert.equal(k.stats.damaged, 1);
    assert.equal(await k.get('T2'), undefined);
    await k.claim(sale('T3'), 'a3');
    await k.close();
    const l = await open();
    assert.equal(l.stats.damaged, 0);
    assert.deepEqual([(await l.get('T1'))?.state, (await l.get('T3'))?.state], ['pending', 'pending']);
  });

  it('a flush that reaches past the filled space waits for the fill running there: no zeros land on records', async () => {
    const j = await open({ preallocateBytes: 8192 });
    await j.claim(sale('F0'), 'a0');
    // Every zero fill is held back 30 ms on its way to the disk, as a slow disk would: a flush
    // written meanwhile into the same bytes would be overwritten by it.
    const writer = (j as unknown as { writer: { file: { write: (...a: unknown[]) => Promise<unknown> } } }).writer;
    const realWrite = writer.file.write;
    let heldBack = 0;
    writer.file.write = function (this: unknown, ...args: unknown[]) {
      const buf = args[0] as Buffer;
      if (buf.length === 8192 && buf.every((b) => b === 0)) {
        heldBack++;
        return new Promise((r) => setTimeout(r, 30)).then(() => realWrite.apply(this, args));
      }
      return realWrite.apply(this, args);
    };
    // Bursts of 30 payments: each flush (tens of kilobytes) reaches well past 8 KiB of filled space.
    for (let burst = 0; burst < 8; burst++) {
      await Promise.all(Array.from({ length: 30 }, async (_, i) => {
        const ref = `F${burst}-${i}`;
        const c = await j.claim(sale(ref), `a-${ref}`);
        await j.finish(c.entry, result(sale(ref)));
      }));
    }
    await j.close();
    const k = await open();
    assert.equal(k.stats.damaged, 0);
    assert.equal(k.stats.finished, 240);
    for (const ref of ['F0-0', 'F3-17', 'F7-29']) assert.equal((await k.get(ref))?.result?.transactionId, 'tx-1');
    assert.ok(heldBack >= 4, `${heldBack} fills held back: the race was run`);
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
