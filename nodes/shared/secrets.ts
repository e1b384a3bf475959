// Credentials may be written as ${ENV_VAR} so a secret can live outside flows_cred.json.

import type { Node, RedApi } from './red';

const ENV_REF = /^\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$/;

export function resolveSecret(RED: RedApi, node: Node, value: string | undefined): string {
  if (!value) return '';
  const ref = ENV_REF.exec(value);
  if (!ref) return value;
  const name = ref[1]!;
  return (RED.util.getSetting ? RED.util.getSetting(node, name) : undefined) ?? process.env[name] ?? '';
}
