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
  /**
   * Dialog rows of a flow node (by type) that only this provider uses, e.g. a notification
   * node's streams: rows marked data-pos-option="<option>" show while such a provider is chosen.
   */
  readonly flowNodeOptions?: Readonly<Partial<Record<string, readonly string[]>>>;
}

export const PROVIDER_TABLE: readonly ProviderEntry[] = table.providers;

/** Each flow node type and the capability a provider needs to be offered in it. */
export const FLOW_NODE_CAPABILITY: Readonly<Record<string, Capability>> = table.flowNodes as Record<string, Capability>;

export const PROVIDER_NAMES: readonly string[] = PROVIDER_TABLE.map((p) => p.name);

/** Flow node types whose default provider is not the first that offers them. */
const DEFAULT_PROVIDERS: Readonly<Record<string, string>> = table.defaultProviders as Record<string, string>;

/** The provider a config node type (`pos-<name>`) connects to, if it is one. */
export function providerOfConfigType(type: string): string | undefined {
  const name = type.startsWith('pos-') ? type.slice(4) : '';
  return PROVIDER_NAMES.includes(name) ? name : undefined;
}

/**
 * What a provider's adapter can do, from the table: the adapters read it here rather than keep
 * a copy of their own. An unknown name is a programming error, so it throws.
 */
export function capabilitiesOf(name: string): Capabilities {
  const entry = providerEntry(name);
  if (!entry) throw new Error(`${name} is not in lib/providers/registry.json`);
  return Object.freeze({ ...entry.capabilities });
}

export function providerEntry(name: string): ProviderEntry | undefined {
  return PROVIDER_TABLE.find((p) => p.name === name);
}

/**
 * The provider a flow node of this type uses when its `provider` is not set, in the editor and
 * at runtime alike: the table's `defaultProviders` entry for the type, else the first provider
 * of the table that offers the node's capability. (scripts/provider-parts.js keeps the same rule
 * for the editor; a unit test compares the two.)
 */
export function defaultProvider(flowType: string): string {
  const chosen = DEFAULT_PROVIDERS[flowType];
  if (chosen) return chosen;
  const capability = FLOW_NODE_CAPABILITY[flowType];
  return PROVIDER_TABLE.find((p) => !capability || p.capabilities[capability])?.name ?? PROVIDER_NAMES[0]!;
}

/** What the provider table adds to a flow node's defaults: its default provider and its empty config references. */
export function flowNodeDefaults(flowType: string): Record<string, string> {
  return FLOW_NODE_CAPABILITY[flowType] ? { provider: defaultProvider(flowType), ...providerReferences(flowType) } : {};
}

/** A flow node's config references, one per provider it offers, each empty until one is chosen. */
export function providerReferences(flowType: string): Record<string, string> {
  const capability = FLOW_NODE_CAPABILITY[flowType];
  if (!capability) return {};
  return Object.fromEntries(PROVIDER_TABLE.filter((p) => p.capabilities[capability]).map((p) => [p.name, '']));
}
