// The pack's one provider table (registry.json beside this file), typed for the library and the
// nodes. The build reads the same JSON to write the editor's provider fields and rows
// (scripts/provider-parts.js), so a new provider is an entry there, not an edit in every node.

import type { Capabilities, Capability } from '../core/provider';
import table from './registry.json';

export interface ProviderEntry {
  /** The provider's name as flows spell it: the `provider` value and the config reference's property. */
  readonly name: string;
  /** What the editor shows. */
  readonly label: string;
  /** A shorter label for narrow places (the Payments sidebar); the label when absent. */
  readonly shortLabel?: string;
  /** The same capabilities the adapter claims (a unit test keeps them equal). */
  readonly capabilities: Capabilities;
  /** Why a capability is missing, in words a person can act on. */
  readonly lacks?: Readonly<Partial<Record<Capability, string>>>;
  /**
   * For a provider that allows one connection per account: the credential that names the
   * account (a second connection with the same one would displace a running flow's).
   */
  readonly singleConnection?: string;
  /** The methods a request-in node may answer. */
  readonly requestMethods?: readonly string[];
}

export const PROVIDER_TABLE: readonly ProviderEntry[] = table.providers;

/** Each flow node type and the capability a provider needs to be offered in it. */
export const FLOW_NODE_CAPABILITY: Readonly<Record<string, Capability>> = table.flowNodes as Record<string, Capability>;

export const PROVIDER_NAMES: readonly string[] = PROVIDER_TABLE.map((p) => p.name);

/** The provider a config node type (`pos-<name>`) connects to, if it is one. */
export function providerOfConfigType(type: string): string | undefined {
  const name = type.startsWith('pos-') ? type.slice(4) : '';
  return PROVIDER_NAMES.includes(name) ? name : undefined;
}

export function providerEntry(name: string): ProviderEntry | undefined {
  return PROVIDER_TABLE.find((p) => p.name === name);
}

/** A flow node's config references, one per provider it offers, each empty until one is chosen. */
export function providerReferences(flowType: string): Record<string, string> {
  const capability = FLOW_NODE_CAPABILITY[flowType];
  if (!capability) return {};
  return Object.fromEntries(PROVIDER_TABLE.filter((p) => p.capabilities[capability]).map((p) => [p.name, '']));
}
