// The small part of Node-RED's runtime API the nodes use, typed here so the pack needs no
// type package for the whole of Node-RED.

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export type SendFunction = (msg: NodeMessage | Array<NodeMessage | null> | null) => void;
export type DoneFunction = (err?: Error) => void;

export interface ContextStore {
  get(key: string, store: string | undefined, cb: (err: Error | null, value?: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err?: Error | null) => void): void;
  keys(store: string | undefined, cb: (err: Error | null, keys?: string[]) => void): void;
}

export interface Node {
  id: string;
  type: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFunction, done: DoneFunction) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | null> | null): void;
  status(status: NodeStatus): void;
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string, m?: NodeMessage): void;
  debug(msg: string): void;
  context(): ContextStore;
}

export interface RedApi {
  nodes: {
    createNode(node: object, config: object): void;
    registerType(type: string, ctor: Function, opts?: { credentials?: Record<string, { type: 'text' | 'password' }> }): void;
    getNode(id: string): unknown;
  };
  util: {
    cloneMessage<T>(msg: T): T;
    getSetting?(node: Node | undefined, name: string): string | undefined;
  };
  _: (key: string, substitutions?: Record<string, unknown>) => string;
  /** The runtime's events; `flows:started` follows every start and deploy. */
  events?: { once(event: string, listener: (...args: unknown[]) => void): unknown; removeListener(event: string, listener: (...args: unknown[]) => void): unknown };
  /** Node-RED's settings; userDir is where the pack keeps its journal. */
  settings?: { userDir?: string };
}

/** Node-RED sets `this` to the node being constructed; the constructors take it as a typed parameter. */
export type NodeConstructor<C> = (this: Node, config: C) => void;
