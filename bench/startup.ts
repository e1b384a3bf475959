// Measurement 4: the time this pack adds to Node-RED's start.
//
// `node node_modules/node-red/red.js -u <userDir> -p <free port> -s <settings>` is spawned and
// timed from spawn until its log prints "Started flows", for two kinds of user directory:
//
//   empty  nothing but what Node-RED creates itself;
//   pack   this pack linked into <userDir>/node_modules (a symlink to the repository root,
//          as scripts/start.js installs it) and a flows file with one pos-paymentsense
//          (environment simulator) and one pos-pay.
//
// Both use the same settings file (uiHost 127.0.0.1, info logging, projects and telemetry
// off). Every start gets a fresh temporary user directory; one unrecorded start of each kind
// warms the file cache first; the kinds then alternate (A,B then B,A). Each Node-RED is
// stopped (SIGTERM, then SIGKILL after 3 s) before the next starts, and every directory is
// removed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from './config';
import { prepareUserDir } from './nodered';
import { ROOT, childMain, freePort, log, removeDir, tempDir, track } from './proc';
import { median, round } from './stats';

type Kind = 'empty' | 'pack';

export interface StartupRun {
  kind: Kind;
  ms: number;
}

export interface StartupResult {
  command: string;
  rounds: StartupRun[][];
  empty: { median: number; min: number; max: number };
  pack: { median: number; min: number; max: number };
  /** median(pack) - median(empty). */
  addedMs: number;
  /** Median of the per-round differences. */
  pairedAddedMs: number;
  /** Errors or warnings Node-RED printed while starting with the pack (should be empty). */
  packLogProblems: string[];
}

const SETTINGS = `module.exports = {
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    credentialSecret: false,
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { projects: { enabled: false }, tours: false },
    logging: { console: { level: 'info', metrics: false, audit: false } }
};
`;

const PACK_FLOWS = [
  { id: 'start-tab', type: 'tab', label: 'startup' },
  { id: 'start-cfg', type: 'pos-paymentsense', name: 'simulator', environment: 'simulator', url: '', softwareHouseId: '', installerId: '', verifyTls: true },
  { id: 'start-pay', type: 'pos-pay', z: 'start-tab', x: 200, y: 100, name: '', provider: 'paymentsense', paymentsense: 'start-cfg', terminalId: 'VCM00001SIP0', currency: 'GBP', timeout: 180, wires: [[], []] },
];

const RED_JS = require.resolve('node-red/red.js', { paths: [ROOT] });

/** Known harmless lines of a first start (no projects, plain-text credentials). */
const EXPECTED_WARNINGS = [/Projects disabled/, /unencrypted credentials/i];

async function startOnce(kind: Kind, settingsFile: string, timeoutMs: number): Promise<{ ms: number; problems: string[] }> {
  const userDir = kind === 'pack' ? prepareUserDir('startup-pack', true) : tempDir('startup-empty');
  if (kind === 'pack') fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(PACK_FLOWS, null, 2));
  const port = await freePort();
  let output = '';
  try {
    const t0 = performance.now();
    const child = track(spawn(process.execPath, [RED_JS, '-u', userDir, '-p', String(port), '-s', settingsFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
    const ms = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Node-RED (${kind}) did not log "Started flows" within ${timeoutMs} ms; log:\n${output.slice(-2000)}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Started flows')) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      onExit = (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Node-RED (${kind}) exited (${signal ?? code}) before "Started flows"; log:\n${output.slice(-2000)}`));
      };
      child.once('exit', onExit);
    }).finally(async () => {
      if (onExit) child.off('exit', onExit);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const hard = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        child.kill('SIGTERM');
      });
    });
    const problems = output.split('\n')
      .filter((line) => /\[(error|warn)\]/.test(line) && !EXPECTED_WARNINGS.some((re) => re.test(line)))
      .map((line) => line.trim());
    return { ms, problems };
  } finally {
    removeDir(userDir);
  }
}

export async function main(): Promise<StartupResult> {
  const cfg = loadConfig().startup;
  const settingsDir = tempDir('startup-settings');
  const settingsFile = path.join(settingsDir, 'settings.js');
  fs.writeFileSync(settingsFile, SETTINGS);
  const problems = new Set<string>();
  try {
    for (const kind of ['empty', 'pack'] as const) await startOnce(kind, settingsFile, cfg.timeoutMs);
    const rounds: StartupRun[][] = [];
    for (let r = 0; r < cfg.rounds; r++) {
      const order: Kind[] = r % 2 === 0 ? ['empty', 'pack'] : ['pack', 'empty'];
      const runs: StartupRun[] = [];
      for (const kind of order) {
        const { ms, problems: p } = await startOnce(kind, settingsFile, cfg.timeoutMs);
        if (kind === 'pack') p.forEach((line) => problems.add(line.replace(/^\d+ \w+ [\d:]+ - /, '')));
        runs.push({ kind, ms: round(ms) });
      }
      rounds.push(runs);
      const get = (k: Kind) => runs.find((x) => x.kind === k)!.ms;
      log(`startup round ${r + 1}/${cfg.rounds}: empty ${get('empty')} ms, pack ${get('pack')} ms`);
    }
    const of = (k: Kind) => rounds.map((runs) => runs.find((x) => x.kind === k)!.ms);
    const summary = (values: number[]) => ({ median: round(median(values)), min: Math.min(...values), max: Math.max(...values) });
    const empty = of('empty');
    const pack = of('pack');
    return {
      command: 'node node_modules/node-red/red.js -u <fresh tmp userDir> -p <free port> -s <settings>; spawn -> "Started flows"',
      rounds,
      empty: summary(empty),
      pack: summary(pack),
      addedMs: round(median(pack) - median(empty)),
      pairedAddedMs: round(median(pack.map((v, i) => v - empty[i]!))),
      packLogProblems: [...problems],
    };
  } finally {
    removeDir(settingsDir);
  }
}

if (require.main === module) childMain(main);
