// An embedded Node-RED runtime for the bench, set up the way a user installs the pack: a
// fresh user directory with the pack linked into its node_modules (as `npm install <path>`
// and scripts/start.js do), the core nodes, and the default in-memory context store.
//
// Embedded rather than node-red-node-test-helper: the helper wraps Node.prototype methods in
// sinon spies that record every call (every msg sent, every status), which costs time and
// memory that a real runtime does not have.
//
// A tiny `bench-sink` node type is written into <userDir>/nodes: it hands every msg it
// receives to a function of this process, so the bench sees results without polling.

import fs from 'node:fs';
import path from 'node:path';
import { paymentsenseUrl } from '../lib/providers/paymentsense/url';
import { ROOT, removeDir, tempDir } from './proc';

export type SinkHook = (nodeId: string, msg: Record<string, unknown>) => void;

const SINK_JS = `module.exports = function (RED) {
  RED.nodes.registerType('bench-sink', function (config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.on('input', function (msg, send, done) {
      const hook = global.__posBenchSink;
      if (hook) hook(node.id, msg);
      done();
    });
  });
};
`;
const SINK_HTML = `<script type="text/javascript">
RED.nodes.registerType('bench-sink', { category: 'bench', defaults: { name: { value: '' } }, inputs: 1, outputs: 0, label: 'bench sink' });
</script>
`;

/** The slice of Node-RED's embedding API the bench uses. */
export interface EmbeddedRed {
  init(settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: {
    getNode(id: string): any;
    setFlows(flows: object[], credentials: Record<string, object> | null, type: string): Promise<unknown>;
  };
  events: { on(event: string, fn: (...args: unknown[]) => void): void; once(event: string, fn: (...args: unknown[]) => void): void };
}

export interface Runtime {
  RED: EmbeddedRed;
  userDir: string;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  flows?: object[];
  /** flows_cred.json in plain text (credentialSecret is false). */
  credentials?: Record<string, object>;
  functionGlobalContext?: Record<string, unknown>;
  onSink?: SinkHook;
  /** Link this pack into the user directory (default true). */
  withPack?: boolean;
}

const PACK_NAME: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name;

export function prepareUserDir(prefix: string, withPack: boolean): string {
  const userDir = tempDir(prefix);
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  if (withPack) fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', PACK_NAME), 'junction');
  return userDir;
}

export async function startRuntime(prefix: string, opts: RuntimeOptions = {}): Promise<Runtime> {
  const userDir = prepareUserDir(prefix, opts.withPack !== false);
  fs.mkdirSync(path.join(userDir, 'nodes'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'nodes', 'bench-sink.js'), SINK_JS);
  fs.writeFileSync(path.join(userDir, 'nodes', 'bench-sink.html'), SINK_HTML);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows ?? []));
  if (opts.credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(opts.credentials));
  (globalThis as { __posBenchSink?: SinkHook }).__posBenchSink = opts.onSink;

  const RED = require(require.resolve('node-red', { paths: [ROOT] })) as EmbeddedRed;
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  RED.init({
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    functionGlobalContext: opts.functionGlobalContext ?? {},
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false } },
    telemetry: { enabled: false, updateNotification: false },
  });
  await RED.start();
  await started;
  let stopped: Promise<void> | undefined;
  return {
    RED,
    userDir,
    stop: () => {
      stopped ??= Promise.race([
        RED.stop().catch(() => undefined),
        new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref()),
      ]).then(() => removeDir(userDir));
      return stopped;
    },
  };
}

/** The URL the pack itself would connect to, for clients that talk to the simulator directly. */
export function pacUrl(base: string, token: string): string {
  return paymentsenseUrl({ environment: 'custom', url: base, token, softwareHouseId: 'BENCH', installerId: 'BENCH' });
}
