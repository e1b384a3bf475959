// `npx node-red-contrib-pos-payments check <provider> ...`: the connection check from a shell,
// for a support ticket or a CI job. Plain argument parsing (no dependency). Secrets come only
// from environment variables, so they stay out of shell history and CI logs.

import fs from 'node:fs';
import path from 'node:path';
import { WireLog } from '../core/wire-log';
import { CHECK_PROVIDERS, checkFor, runCheck, secretEnvName, type CheckInput, type CheckReport } from './index';
import type { Environment } from './types';

const ENVIRONMENTS: readonly Environment[] = ['simulator', 'test', 'production', 'custom'];
/** Flags the check itself takes; every other --name is a config field of the provider. */
const OWN_FLAGS = new Set(['env', 'url', 'json', 'pay', 'currency', 'terminalId', 'timeout', 'listen', 'wire-log']);
const OWN_SWITCHES = new Set(['no-verify-tls', 'help']);

export function usage(): string {
  return [
    'usage: node-red-contrib-pos-payments check <provider> [--env simulator|test|production|custom] [--url URL]',
    '         [--json FILE] [--pay AMOUNT [--currency CODE] [--terminalId ID]] [--timeout SECONDS]',
    '         [--listen SECONDS] [--no-verify-tls] [--wire-log DIR] [--<field> value ...]',
    `providers: ${CHECK_PROVIDERS.join(', ')}`,
    'Secrets are read from environment variables only, POS_<PROVIDER>_<CREDENTIAL> in upper snake case',
    '  (apiKey -> POS_<PROVIDER>_API_KEY); the check names each one it misses.',
    '--listen keeps the connection open that long to see which events arrive (to learn a provider\'s event names).',
    '--pay takes one test payment of AMOUNT minor units on a sandbox terminal (refused in production).',
    'Exit status: 0 when every step held, 1 when one failed, 2 for a usage error.',
  ].join('\n');
}

interface Parsed {
  provider: string;
  flags: Map<string, string>;
  switches: Set<string>;
}

class UsageError extends Error {}

function parse(argv: readonly string[]): Parsed {
  const args = [...argv];
  if (args[0] === 'check') args.shift();
  const provider = args.shift();
  if (!provider || provider.startsWith('--')) throw new UsageError('name a provider');
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (OWN_SWITCHES.has(name)) {
      switches.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return { provider, flags, switches };
}

/** Runs the CLI; resolves with the exit status. `out` and `err` are for tests. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(usage());
    return 0;
  }
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (e) {
    err(`${(e as Error).message}\n${usage()}`);
    return 2;
  }
  const check = checkFor(parsed.provider);
  if (!check) {
    err(`unknown provider "${parsed.provider}"; one of: ${CHECK_PROVIDERS.join(', ')}`);
    return 2;
  }
  const { flags } = parsed;
  const environment = (flags.get('env') ?? 'test') as Environment;
  if (!ENVIRONMENTS.includes(environment)) {
    err(`--env must be one of ${ENVIRONMENTS.join(', ')}`);
    return 2;
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of flags) {
    if (OWN_FLAGS.has(name)) continue;
    if (check.secrets.includes(name)) {
      err(`--${name} is a secret: set ${secretEnvName(check.provider, name)} in the environment instead`);
      return 2;
    }
    if (!check.fields.includes(name)) {
      err(`unknown option --${name}; ${check.provider} takes ${check.fields.map((f) => `--${f}`).join(', ')}`);
      return 2;
    }
    fields[name] = value;
  }
  const secrets: Record<string, string | undefined> = {};
  for (const name of check.secrets) secrets[name] = env[secretEnvName(check.provider, name)];
  let pay: CheckInput['pay'];
  if (flags.has('pay')) {
    const amount = Number(flags.get('pay'));
    pay = { amount, ...(flags.get('currency') ? { currency: flags.get('currency')!.toUpperCase() } : {}), ...(flags.get('terminalId') ? { terminalId: flags.get('terminalId')! } : {}) };
  }
  const timeoutS = flags.has('timeout') ? Number(flags.get('timeout')) : 10;
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 300) {
    err('--timeout takes seconds, from above 0 to 300');
    return 2;
  }
  const listenS = flags.has('listen') ? Number(flags.get('listen')) : 0;
  if (!Number.isFinite(listenS) || listenS < 0 || listenS > 300) {
    err('--listen takes seconds, from 0 to 300');
    return 2;
  }
  const wireDir = flags.get('wire-log');
  const wireLog = wireDir ? new WireLog({ dir: path.resolve(wireDir), name: `${check.provider}-check`, secrets: Object.values(secrets), onError: err }) : undefined;
  const report = await runCheck(check, {
    environment,
    ...(flags.has('url') ? { url: flags.get('url')! } : {}),
    verifyTls: !parsed.switches.has('no-verify-tls'),
    fields,
    secrets,
    ...(pay ? { pay } : {}),
    timeoutMs: Math.round(timeoutS * 1000),
    ...(listenS > 0 ? { listenMs: Math.round(listenS * 1000) } : {}),
    ...(wireLog ? { wire: wireLog.tap } : {}),
  });
  for (const line of render(report)) out(line);
  const missing = report.steps.find((s) => s.name === 'settings' && !s.ok);
  if (missing) {
    const envHints = check.secrets.filter((s) => missing.detail.includes(s)).map((s) => `${s}: set ${secretEnvName(check.provider, s)}`);
    if (envHints.length) out(`  ${envHints.join('; ')}`);
  }
  const jsonFile = flags.get('json');
  if (jsonFile) {
    fs.writeFileSync(path.resolve(jsonFile), `${JSON.stringify(report, null, 2)}\n`);
    out(`report written to ${jsonFile}`);
  }
  if (wireLog) out(`wire log: ${wireLog.file}`);
  return report.ok ? 0 : 1;
}

export function render(report: CheckReport): string[] {
  const lines = [`${report.provider}: ${report.ok ? 'every step held' : 'a step failed'}`];
  for (const s of report.steps) lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.detail}`);
  for (const [name, fact] of Object.entries(report.facts)) {
    const value = Array.isArray(fact.value) ? (fact.value.length ? fact.value.join(', ') : '(none seen)') : String(fact.value);
    lines.push(`  fact ${name}: ${value}${fact.advice ? `\n       -> ${fact.advice}` : ''}`);
  }
  return lines;
}
