// What a pos-journal config node offers the provider config nodes that select it.

import type { Node } from './red';

export interface JournalNode extends Node {
  store: 'file' | 'postgres';
  table: string;
  leaseSeconds: number;
  /** The PostgreSQL URL, `${ENV}` resolved; never logged. Undefined for the file store. */
  connectionString: string | undefined;
}
