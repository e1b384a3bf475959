// Lists the terminals of the selected provider on any input.

import { PosError } from '../lib/core/errors';
import { canSend } from '../lib/core/payments';
import { whenConnected } from '../lib/core/when-connected';
import type { Terminal } from '../lib/core/types';
import { errorStatus } from './shared/error-status';
import { bindFlowNode, timeoutMs, type FlowNodeConfig } from './shared/flow-node';
import type { DoneFunction, Node, NodeMessage, RedApi, SendFunction } from './shared/red';
import { textStatus } from './shared/status';
import { NODE_DEFAULTS, withDefaults } from './shared/defaults';

const DEFAULT_TIMEOUT_S = NODE_DEFAULTS['pos-terminals'].timeout;

export = function (RED: RedApi): void {
  RED.nodes.registerType('pos-terminals', function (this: Node, config: FlowNodeConfig) {
    RED.nodes.createNode(this, config);
    // What the flow lacks is what the editor would have given it.
    config = withDefaults('pos-terminals', config);
    const node = this;
    const binding = bindFlowNode(RED, node, config, 'terminals');

    node.on('input', (msg: NodeMessage, send: SendFunction, done: DoneFunction) => {
      let timer: NodeJS.Timeout | undefined;
      Promise.resolve()
        .then(async () => {
          const connection = binding.require('terminals');
          const limit = timeoutMs(msg.timeout, config.timeout, DEFAULT_TIMEOUT_S);
          const deadline = Date.now() + limit;
          // Just after a deploy or while reconnecting the list waits for the connection, within the timeout.
          await whenConnected(connection.provider, { limitMs: limit, nothingSent: 'no terminal list was asked for', ready: canSend });
          return Promise.race([
            connection.provider.listTerminals(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new PosError('timeout', `no terminal list within ${limit / 1000} s`)), Math.max(0, deadline - Date.now()));
            }),
          ]);
        })
        .then((terminals: Terminal[]) => {
          const available = terminals.filter((t) => t.status === 'available').length;
          binding.show(textStatus(RED, 'status.terminals', { count: terminals.length, available }, 'green'));
          msg.payload = terminals;
          send(msg);
          done();
        }, (err: Error) => {
          binding.show(errorStatus(RED, err));
          done(err);
        })
        .finally(() => clearTimeout(timer));
    });
  });
};
