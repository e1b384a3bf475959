// The `wireLog` checkbox of a config node: a redacted, rotating log of every frame of its
// connection in <userDir>/pos-payments/wire/<provider>-<node id>.log (DESIGN.md "Checking a
// real account"). Off by default; the file says what the provider sent, never a secret.

import path from 'node:path';
import { WireLog } from '../../lib/core/wire-log';
import type { WireTap } from '../../lib/core/wire-log';
import { packDir } from './account-journal';
import { onlyIfTrue } from './config-fields';
import type { Node, RedApi } from './red';

/** 1 MiB per file and 3 old files: about 4 MiB per connection at most. */
const MAX_BYTES = 1024 * 1024;
const KEEP = 3;

export function wireDir(RED: RedApi): string {
  return path.join(packDir(RED), 'wire');
}

/** The tap to give the adapter when the box is ticked; undefined otherwise. */
export function wireTapFor(RED: RedApi, node: Node, provider: string, enabled: unknown, secrets: Array<string | undefined>): WireTap | undefined {
  if (!onlyIfTrue(enabled)) return undefined;
  const log = new WireLog({
    dir: wireDir(RED),
    name: `${provider}-${node.id}`,
    secrets,
    maxBytes: MAX_BYTES,
    keep: KEEP,
    onError: (message) => node.warn(message),
  });
  node.log(`wire log on: ${log.file} (redacted; turn it off when done)`);
  return log.tap;
}

/** `{ wire }` for an adapter's options, or nothing, so an unset tap adds no property. */
export function wireOption(tap: WireTap | undefined): { wire?: WireTap } {
  return tap ? { wire: tap } : {};
}
